import { describe, expect, it } from 'vitest';
import { brushDisc, brushSegment, diffLabels, floodRegion, holePixels, mergePatches, paint, polygonPixels, withinRange } from '../../../../src-renderer/src/components/annotate/label-tools';
import { LabelHistory } from '../../../../src-renderer/src/components/annotate/label-history';

const xy = (indices: readonly number[], width: number) => indices.map((i) => `${i % width},${Math.floor(i / width)}`).sort();

/** Reads a map drawn as text rows ('.' 0, digits their value). */
function grid(rows: string[]): { labels: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  const labels = Uint8Array.from(rows.join('').split(''), (c) => (c === '.' ? 0 : Number(c)));
  return { labels, width, height: rows.length };
}

describe('brush', () => {
  it('a 2-pixel disc centred on a pixel is that pixel and its four neighbours; a 3-pixel one the 3x3 square', () => {
    expect(xy(brushDisc(5.5, 5.5, 2, 10, 10), 10)).toEqual(['4,5', '5,4', '5,5', '5,6', '6,5'].sort());
    expect(xy(brushDisc(5.5, 5.5, 3, 10, 10), 10)).toHaveLength(9);
  });

  it('diameter 1 is the pixel under the point, and a disc is clipped at the border', () => {
    expect(xy(brushDisc(2.9, 3.1, 1, 10, 10), 10)).toEqual(['2,3']);
    expect(xy(brushDisc(0.5, 0.5, 2, 10, 10), 10)).toEqual(['0,0', '0,1', '1,0'].sort());
  });

  it('a disc of diameter 10 has about pi r^2 pixels, symmetric about its centre', () => {
    const disc = brushDisc(20, 20, 10, 40, 40);
    expect(disc.length).toBeGreaterThan(70);
    expect(disc.length).toBeLessThan(90);
    const set = new Set(xy(disc, 40));
    for (const p of set) {
      const [x, y] = p.split(',').map(Number) as [number, number];
      expect(set.has(`${39 - x},${39 - y}`)).toBe(true);
    }
  });

  it('a fast stroke leaves no gap: every pixel on the line is painted', () => {
    const swept = new Set(brushSegment(0.5, 5.5, 30.5, 5.5, 1, 40, 10));
    for (let x = 0; x <= 30; x++) expect(swept.has(5 * 40 + x)).toBe(true);
    expect(swept.size).toBe(31);
  });
});

describe('fill', () => {
  it('flood fill takes the 4-connected region of the clicked value, not diagonal neighbours', () => {
    const { labels, width, height } = grid(['11...', '1.1..', '11.1.', '.....']);
    expect(xy(floodRegion(labels, width, height, 1, 1), width)).toEqual(['1,1']);
    expect(xy(floodRegion(labels, width, height, 0, 0), width)).toEqual(['0,0', '0,1', '0,2', '1,0', '1,2'].sort());
  });

  it('fill hole finds background enclosed by lesion, not background joined to the border', () => {
    const { labels, width, height } = grid(['.......', '.2222..', '.2..2..', '.2222..', '.......', '..1.1..']);
    expect(xy(holePixels(labels, width, height), width)).toEqual(['2,2', '3,2']);
  });
});

describe('lasso', () => {
  it('a square polygon covers the pixels whose centres lie inside', () => {
    expect(xy(polygonPixels([{ x: 1, y: 1 }, { x: 4, y: 1 }, { x: 4, y: 3 }, { x: 1, y: 3 }], 6, 6), 6)).toEqual(['1,1', '2,1', '3,1', '1,2', '2,2', '3,2'].sort());
  });

  it('a triangle keeps to its half of the square', () => {
    const tri = polygonPixels([{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 0, y: 4 }], 4, 4);
    expect(xy(tri, 4)).toEqual(['0,0', '1,0', '2,0', '0,1', '1,1', '0,2'].sort());
  });

  it('fewer than three points fill nothing; a polygon past the border is clipped', () => {
    expect(polygonPixels([{ x: 0, y: 0 }, { x: 3, y: 3 }], 4, 4)).toEqual([]);
    expect(polygonPixels([{ x: -5, y: -5 }, { x: 10, y: -5 }, { x: 10, y: 10 }, { x: -5, y: 10 }], 4, 4)).toHaveLength(16);
  });
});

describe('threshold painting and patches', () => {
  it('keeps only pixels within the intensity range', () => {
    const hu = Float32Array.from([-1000, -700, -300, 40, 200]);
    expect(withinRange([0, 1, 2, 3, 4], hu, { low: -750, high: 50 })).toEqual([1, 2, 3]);
  });

  it('paint reports only changed pixels; undo and redo restore exact maps; a new stroke drops the redo', () => {
    const labels = new Uint8Array(16);
    const history = new LabelHistory();
    const start = labels.slice();
    history.push(paint(labels, [0, 1, 2], 1));
    const afterFirst = labels.slice();
    const second = paint(labels, [2, 3], 2)!;
    expect(Array.from(second.indices)).toEqual([2, 3]);
    expect(Array.from(second.before)).toEqual([1, 0]);
    history.push(second);
    expect(paint(labels, [3], 2)).toBeNull();
    const afterSecond = labels.slice();
    expect(history.undo(labels)).toBe(true);
    expect(labels).toEqual(afterFirst);
    expect(history.undo(labels)).toBe(true);
    expect(labels).toEqual(start);
    expect(history.undo(labels)).toBe(false);
    history.redo(labels);
    history.redo(labels);
    expect(labels).toEqual(afterSecond);
    expect(history.redo(labels)).toBe(false);
    history.undo(labels);
    history.push(paint(labels, [15], 0 + 1));
    expect(history.canRedo).toBe(false);
    expect(Array.from(labels.slice(0, 4))).toEqual([1, 1, 1, 0]);
    expect(labels[15]).toBe(1);
  });

  it('merging the dabs of one stroke gives one step from the first before to the last after', () => {
    const labels = new Uint8Array(8);
    const a = paint(labels, [0, 1], 1)!;
    const b = paint(labels, [1, 2], 2)!;
    const c = paint(labels, [0], 0)!;
    const merged = mergePatches([a, b, c])!;
    expect(Array.from(merged.indices).sort()).toEqual([1, 2]);
    expect(diffLabels(new Uint8Array(8), labels)).toEqual({ indices: Uint32Array.from([1, 2]), before: Uint8Array.from([0, 0]), after: Uint8Array.from([2, 2]) });
  });
});
