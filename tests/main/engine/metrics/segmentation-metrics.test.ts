import { describe, expect, it } from 'vitest';
import { squaredDistanceTransform } from '../../../../src-main/engine/metrics/distance-transform';
import { aggregateMetrics, hausdorff95, sliceMetrics } from '../../../../src-main/engine/metrics/segmentation-metrics';

/** Mask from rows of '#' (lesion) and '.' (background). */
function mask(rows: string[]): { data: Uint8Array; width: number; height: number } {
  const width = rows[0]!.length;
  const data = new Uint8Array(width * rows.length);
  rows.forEach((row, y) => [...row].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { data, width, height: rows.length };
}

describe('segmentation metrics', () => {
  it('computes Dice, IoU, precision and recall by hand', () => {
    const truth = mask(['##..', '##..', '....', '....']);
    const pred = mask(['###.', '....', '....', '....']);
    const m = sliceMetrics('a', pred.data, truth.data, 4, 4);
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 1, 2, 11]);
    expect(m.dice).toBeCloseTo(4 / 7, 10);
    expect(m.iou).toBeCloseTo(2 / 5, 10);
    expect(m.precision).toBeCloseTo(2 / 3, 10);
    expect(m.recall).toBeCloseTo(1 / 2, 10);
  });

  it('applies the empty-mask policy', () => {
    const empty = mask(['...', '...']).data;
    const some = mask(['#..', '...']).data;
    const bothEmpty = sliceMetrics('e', empty, empty, 3, 2);
    expect([bothEmpty.dice, bothEmpty.iou, bothEmpty.hd95]).toEqual([null, null, null]);
    const falsePositive = sliceMetrics('fp', some, empty, 3, 2);
    expect([falsePositive.dice, falsePositive.iou, falsePositive.precision, falsePositive.recall]).toEqual([0, 0, 0, null]);
    const missed = sliceMetrics('fn', empty, some, 3, 2);
    expect([missed.dice, missed.recall, missed.precision]).toEqual([0, 0, null]);
    const perfect = sliceMetrics('ok', some, some, 3, 2);
    const all = aggregateMetrics([bothEmpty, falsePositive, missed, perfect]);
    expect(all.bothEmpty).toBe(1);
    expect(all.emptyTruth).toBe(2);
    expect(all.falsePositiveRateOnEmpty).toBe(0.5);
    expect(all.dice).toBeCloseTo((0 + 0 + 1) / 3, 10); // both-empty slice excluded
    // pooled: tp 1, fp 1, fn 1 -> Dice 2/4, IoU 1/3; background: tn = 24 - 3 = 21 -> IoU 21/23
    expect(all.pooled.dice).toBeCloseTo(0.5, 10);
    expect(all.pooled.iou).toBeCloseTo(1 / 3, 10);
    expect(all.miou).toBeCloseTo((1 / 3 + 21 / 23) / 2, 10);
  });

  it('gives no per-image means when nothing is defined', () => {
    const empty = new Uint8Array(4);
    const all = aggregateMetrics([sliceMetrics('a', empty, empty, 2, 2)]);
    expect(all.dice).toBeNull();
    expect(all.pooled.dice).toBeNull();
    expect(all.miou).toBe(1);
  });

  it('measures HD95 in pixels: 0 for equal masks, the shift for shifted squares', () => {
    const a = mask(['..........', '.###......', '.###......', '.###......', '..........']);
    const b = mask(['..........', '....###...', '....###...', '....###...', '..........']);
    expect(hausdorff95(a.data, a.data, 10, 5)).toBe(0);
    expect(hausdorff95(a.data, b.data, 10, 5)).toBeCloseTo(3, 10);
    expect(sliceMetrics('s', b.data, a.data, 10, 5).hd95).toBeCloseTo(3, 10);
  });

  it('computes exact Euclidean distances', () => {
    const d = squaredDistanceTransform(5, 4, (i) => i === 0);
    expect(d[4]).toBe(16);
    expect(d[3 * 5 + 4]).toBe(9 + 16);
    expect(squaredDistanceTransform(2, 2, () => false)[0]).toBe(Infinity);
  });
});
