import { describe, expect, it } from 'vitest';
import { adamSettingsFor, adamStep, createAdamState, ADAM_DEFAULTS } from '../../../../src-main/engine/training/adam';
import { learningRateAt } from '../../../../src-main/engine/training/train-config';

describe('Adam and AdamW', () => {
  it('AdamW shrinks each weight by lr * decay before the Adam step (PyTorch AdamW order)', () => {
    const gradients = [Float32Array.from([0.5, -2, 0])];
    const plain = [Float32Array.from([1, -3, 2])];
    const decayed = [Float32Array.from([1, -3, 2])];
    adamStep(plain, gradients, createAdamState([3]), 0.1, ADAM_DEFAULTS);
    adamStep(decayed, gradients, createAdamState([3]), 0.1, adamSettingsFor({ name: 'adamw', weightDecay: 0.2 }));
    // Same Adam update on both; AdamW additionally subtracts lr * wd * w0 = 0.02 * w0.
    const w0 = [1, -3, 2];
    for (let i = 0; i < 3; i++) expect(decayed[0]![i]!).toBeCloseTo(plain[0]![i]! - 0.02 * w0[i]!, 6);
    // A zero gradient leaves plain Adam's weight alone but still decays AdamW's.
    expect(plain[0]![2]).toBe(2);
    expect(decayed[0]![2]).toBeCloseTo(2 * 0.98, 6);
  });

  it('an older run config without an optimizer trains with plain Adam', () => {
    expect(adamSettingsFor(undefined).weightDecay ?? 0).toBe(0);
    expect(adamSettingsFor({ name: 'adam', weightDecay: 0.5 }).weightDecay ?? 0).toBe(0);
  });

  it('the poly schedule decays linearly to zero over the run', () => {
    const config = { lr: 6e-5, lrSchedule: 'poly' as const, epochs: 4 };
    expect([0, 1, 2, 3].map((e) => learningRateAt(config, e))).toEqual([6e-5, 4.5e-5, 3e-5, 1.5e-5].map((v, i) => (i === 0 ? v : expect.closeTo(v, 12))));
  });
});
