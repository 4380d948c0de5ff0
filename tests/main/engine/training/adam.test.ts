import { describe, expect, it } from 'vitest';
import { adamSettingsFor, adamStep, adamStepRange, createAdamState, ADAM_DEFAULTS } from '../../../../src-main/engine/training/adam';
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

  it('two threads each updating a range of flat arrays apply exactly one Adam step on the weighted mean gradient', () => {
    const n = 1000;
    const wave = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k) * (1 + (i % 7)));
    const settings = adamSettingsFor({ name: 'adamw', weightDecay: 0.01 });
    // Reference: per-weight arrays (sizes 300 and 700), the mean gradient held in a Float32Array.
    const own = wave(1);
    const other = wave(2);
    const mean = own.map((g, i) => 0.75 * g + 0.25 * other[i]!);
    const weights = [wave(3).slice(0, 300), wave(3).slice(300)];
    const state = createAdamState([300, 700]);
    const flat = { weights: wave(3), m: new Float32Array(n), v: new Float32Array(n), gradients: [own, other] as const };
    for (let step = 1; step <= 3; step++) {
      adamStep(weights, [mean.subarray(0, 300), mean.subarray(300)], state, 1e-2, settings);
      // Split across the weights' boundary, as the parallel engine may.
      adamStepRange(flat, 0, 450, step, 1e-2, [0.75, 0.25], settings);
      adamStepRange(flat, 450, n, step, 1e-2, [0.75, 0.25], settings);
    }
    expect(Array.from(flat.weights)).toEqual([...weights[0]!, ...weights[1]!]);
    expect(Array.from(flat.m)).toEqual([...state.m[0]!, ...state.m[1]!]);
    expect(Array.from(flat.v)).toEqual([...state.v[0]!, ...state.v[1]!]);
  });
});
