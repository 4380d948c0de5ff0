import { describe, expect, it } from 'vitest';
import {
  formatOrientation,
  orientEdges,
  orientPixels,
  orientedPoint,
  parseOrientation,
  rotateClockwise,
  sourcePoint,
  type Orientation,
} from '../../src-shared/orientation';

const ALL: Orientation[] = [0, 90, 180, 270].flatMap((rotate) =>
  [false, true].flatMap((flipH) => [false, true].map((flipV) => ({ rotate: rotate as Orientation['rotate'], flipH, flipV }))),
);

// A 3 x 2 picture:   1 2 3
//                    4 5 6
const picture = Uint8Array.from([1, 2, 3, 4, 5, 6]);

describe('orientation', () => {
  it('turns a picture clockwise by 90, 180 and 270 degrees and flips it', () => {
    expect([...orientPixels(picture, 3, 2, { rotate: 90, flipH: false, flipV: false }).data]).toEqual([4, 1, 5, 2, 6, 3]);
    expect(orientPixels(picture, 3, 2, { rotate: 90, flipH: false, flipV: false })).toMatchObject({ width: 2, height: 3 });
    expect([...orientPixels(picture, 3, 2, { rotate: 180, flipH: false, flipV: false }).data]).toEqual([6, 5, 4, 3, 2, 1]);
    expect([...orientPixels(picture, 3, 2, { rotate: 270, flipH: false, flipV: false }).data]).toEqual([3, 6, 2, 5, 1, 4]);
    expect([...orientPixels(picture, 3, 2, { rotate: 0, flipH: true, flipV: false }).data]).toEqual([3, 2, 1, 6, 5, 4]);
    expect([...orientPixels(picture, 3, 2, { rotate: 0, flipH: false, flipV: true }).data]).toEqual([4, 5, 6, 1, 2, 3]);
    // Flips act on the turned picture.
    expect([...orientPixels(picture, 3, 2, { rotate: 90, flipH: true, flipV: false }).data]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('moves every channel of a pixel together (RGBA) and keeps the array type (Float32 HU)', () => {
    const rgba = Uint8ClampedArray.from([1, 1, 1, 1, 2, 2, 2, 2]);
    expect([...orientPixels(rgba, 2, 1, { rotate: 180, flipH: false, flipV: false }, 4).data]).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
    const hu = Float32Array.from([-1000, 40]);
    const turned = orientPixels(hu, 2, 1, { rotate: 90, flipH: false, flipV: false });
    expect(turned.data).toBeInstanceOf(Float32Array);
    expect([...turned.data]).toEqual([-1000, 40]);
  });

  it('maps points both ways consistently with the pixels, for all 16 orientations', () => {
    for (const o of ALL) {
      const out = orientPixels(picture, 3, 2, o);
      for (let y = 0; y < out.height; y++) {
        for (let x = 0; x < out.width; x++) {
          const from = sourcePoint(x, y, 3, 2, o);
          expect(out.data[y * out.width + x]).toBe(picture[from.y * 3 + from.x]);
          expect(orientedPoint(from.x, from.y, 3, 2, o)).toEqual({ x, y });
        }
      }
    }
  });

  it('carries the side markers with the anatomy', () => {
    const edges = { top: 'A', bottom: 'P', left: 'R', right: 'L' };
    expect(orientEdges(edges, { rotate: 90, flipH: false, flipV: false })).toEqual({ top: 'R', right: 'A', bottom: 'L', left: 'P' });
    expect(orientEdges(edges, { rotate: 0, flipH: true, flipV: false })).toEqual({ top: 'A', bottom: 'P', left: 'L', right: 'R' });
    // Marker and pixel agree: paint the top row, orient, and the painted row is where the 'A' marker went.
    for (const o of ALL) {
      const topRow = Uint8Array.from([1, 1, 1, 0, 0, 0]);
      const out = orientPixels(topRow, 3, 2, o);
      const at = orientEdges(edges, o);
      const side = at.top === 'A' ? 'top' : at.bottom === 'A' ? 'bottom' : at.left === 'A' ? 'left' : 'right';
      const cells = { top: [0, 1], bottom: [out.height - 1, 1], left: [1, 0], right: [1, out.width - 1] }[side];
      const [row, col] = cells as [number, number];
      expect(out.data[row * out.width + col], JSON.stringify(o)).toBe(1);
    }
  });

  it('turns the shown picture clockwise whatever flips are set', () => {
    for (const o of ALL) {
      const now = orientPixels(picture, 3, 2, o);
      const next = orientPixels(picture, 3, 2, rotateClockwise(o));
      expect([...next.data]).toEqual([...orientPixels(now.data, now.width, now.height, { rotate: 90, flipH: false, flipV: false }).data]);
    }
  });

  it('writes and reads the CLI form', () => {
    for (const o of ALL) expect(parseOrientation(formatOrientation(o))).toEqual(o);
    expect(parseOrientation('rot45')).toBeUndefined();
  });
});
