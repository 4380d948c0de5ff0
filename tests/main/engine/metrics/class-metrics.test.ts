import { describe, expect, it } from 'vitest';
import { aggregateMultiClass, multiClassSliceMetrics } from '../../../../src-main/engine/metrics/class-metrics';

const NAMES = ['background', 'ground-glass', 'consolidation'];
const u8 = (values: number[]) => Uint8Array.from(values);

// Slice A (4 x 2): every kind of outcome. Slice B: no consolidation in truth, one pixel predicted.
// Slice C: empty truth, empty prediction.
const A = multiClassSliceMetrics('a', u8([0, 1, 2, 2, 1, 0, 1, 0]), u8([0, 1, 1, 2, 0, 0, 1, 2]), 4, 2, 3);
const B = multiClassSliceMetrics('b', u8([1, 0, 0, 2, 0, 0, 0, 0]), u8([1, 1, 0, 0, 0, 0, 0, 0]), 4, 2, 3);
const C = multiClassSliceMetrics('c', new Uint8Array(8), new Uint8Array(8), 4, 2, 3);

describe('per-class metrics', () => {
  it('count each class against the rest, by hand', () => {
    expect(A.confusion).toEqual([
      [2, 1, 0],
      [0, 2, 1],
      [1, 0, 1],
    ]);
    const [ggo, cons] = A.classes;
    expect(ggo).toMatchObject({ tp: 2, fp: 1, fn: 1, tn: 4 });
    expect(ggo!.dice).toBeCloseTo(4 / 6, 10);
    expect(ggo!.iou).toBeCloseTo(2 / 4, 10);
    expect(ggo!.specificity).toBeCloseTo(4 / 5, 10);
    expect(cons).toMatchObject({ tp: 1, fp: 1, fn: 1, tn: 5 });
    expect(cons!.dice).toBeCloseTo(0.5, 10);
    expect(cons!.specificity).toBeCloseTo(5 / 6, 10);
    // Any lesion: ground-glass called consolidation is still a lesion found.
    expect(A.anyLesion).toMatchObject({ tp: 4, fp: 1, fn: 1 });
    expect(A.anyLesion.dice).toBeCloseTo(0.8, 10);
  });

  it('leave a slice without a class out of that class mean, but count what was predicted there as false positive', () => {
    expect(B.classes[1]).toMatchObject({ tp: 0, fp: 1, fn: 0, truthPixels: 0 });
    const m = aggregateMultiClass([A, B, C], NAMES);
    const [ggo, cons] = m.classes;
    expect(ggo!.present).toBe(2);
    expect(ggo!.dice).toBeCloseTo((4 / 6 + 2 / 3) / 2, 10);
    expect(cons!.present).toBe(1);
    expect(cons!.dice).toBeCloseTo(0.5, 10); // not (0.5 + 0) / 2: slice B has no consolidation
    expect(cons!.pooled.dice).toBeCloseTo((2 * 1) / (2 * 1 + 2 + 1), 10); // B's pixel is the second FP
    expect(cons!.falsePositiveRateOnEmpty).toBeCloseTo(1 / 2, 10); // B predicted some, C did not
    expect(cons!.emptyTruth).toBe(2);
    expect(m.meanDice).toBeCloseTo((ggo!.dice! + cons!.dice!) / 2, 10);
    expect(m.confusion).toEqual([
      [15, 1, 1],
      [1, 3, 1],
      [1, 0, 1],
    ]);
    expect(m.groundGlassAsConsolidation).toBeCloseTo(1 / 5, 10);
    expect(m.consolidationAsGroundGlass).toBe(0);
    expect(m.anyLesion.dice).toBeCloseTo((0.8 + 0.5) / 2, 10); // B: the stray consolidation is a lesion FP
    expect(m.anyLesion.bothEmpty).toBe(1);
  });

  it('leaves a class with no slice at all undefined rather than zero', () => {
    const m = aggregateMultiClass([C], NAMES);
    expect(m.classes[1]!.dice).toBeNull();
    expect(m.meanDice).toBeNull();
    expect(m.classes[1]!.specificity).toBe(1);
  });
});
