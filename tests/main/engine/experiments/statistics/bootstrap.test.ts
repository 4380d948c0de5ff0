import { describe, expect, it } from 'vitest';
import { bootstrapMeanCi } from '../../../../../src-main/engine/experiments/statistics/bootstrap';

describe('bootstrapMeanCi', () => {
  it('is reproducible with a seed and differs with another', () => {
    const values = [0.61, 0.66, 0.7, 0.58, 0.73];
    const a = bootstrapMeanCi(values, { seed: 3 });
    expect(bootstrapMeanCi(values, { seed: 3 })).toEqual(a);
    expect(bootstrapMeanCi(values, { seed: 4 })).not.toEqual(a);
    expect(a!.low).toBeGreaterThanOrEqual(0.58);
    expect(a!.high).toBeLessThanOrEqual(0.73);
    expect(a!.low).toBeLessThan(0.656);
    expect(a!.high).toBeGreaterThan(0.656);
  });

  it('matches the hand-computed distribution for two values', () => {
    // Means of 2 draws from {0, 1}: 0 (p 1/4), 0.5 (1/2), 1 (1/4). The 2.5% and 97.5% quantiles
    // fall inside the outer atoms, so the interval is exactly [0, 1].
    expect(bootstrapMeanCi([0, 1], { seed: 1, resamples: 4000 })).toMatchObject({ low: 0, high: 1, level: 0.95 });
    // A 40% interval (quantiles 0.3 and 0.7) lies in the middle atom, which spans 0.25-0.75: exactly [0.5, 0.5].
    expect(bootstrapMeanCi([0, 1], { seed: 1, resamples: 4000, level: 0.4 })).toMatchObject({ low: 0.5, high: 0.5 });
  });

  it('has no width for a constant sample and no interval for none', () => {
    const constant = bootstrapMeanCi([0.7, 0.7, 0.7], { seed: 9 })!;
    expect(constant.low).toBeCloseTo(0.7, 12);
    expect(constant.high).toBeCloseTo(0.7, 12);
    expect(bootstrapMeanCi([], { seed: 9 })).toBeNull();
  });
});
