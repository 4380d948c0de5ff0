import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createLoss, LOSS_NAMES } from '../../../../src-main/engine/losses/segmentation-losses';

// Four pixels of one image, three classes (background, ground-glass, consolidation), channels last.
const Z = [
  [2, -1, 0.5],
  [-1, 3, 0],
  [0, 0.2, 1.5],
  [1, 1, -2],
];
// One-hot rows plus a soft (mixup) row: 0.6 ground-glass + 0.4 background.
const Y = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [0.4, 0.6, 0],
];
const W = [0.5, 1, 3];
const t4 = (rows: number[][]) => tf.tensor4d(rows.flat(), [1, 1, rows.length, rows[0]!.length]);
const value = (loss: string, options: Record<string, unknown> = {}, z = Z, y = Y) => createLoss(loss, options)(t4(z), t4(y)).dataSync()[0]!;

function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const P = Z.map(softmax);
const sumOver = (f: (i: number) => number) => [0, 1, 2, 3].reduce((s, i) => s + f(i), 0);

function expectedCe(w = [1, 1, 1]): number {
  return sumOver((i) => -[0, 1, 2].reduce((s, c) => s + w[c]! * Y[i]![c]! * Math.log(P[i]![c]!), 0)) / 4;
}
function expectedDice(w = [1, 1, 1]): number {
  const perClass = [1, 2].map((c) => {
    const inter = sumOver((i) => P[i]![c]! * Y[i]![c]!);
    const denom = sumOver((i) => P[i]![c]! + Y[i]![c]!);
    return 1 - (2 * inter + 1) / (denom + 1);
  });
  return (w[1]! * perClass[0]! + w[2]! * perClass[1]!) / (w[1]! + w[2]!);
}

describe('multi-class losses (softmax over channels, soft one-hot targets)', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('cross-entropy matches -sum_c w_c y_c log p_c, with and without class weights', () => {
    expect(value('ce')).toBeCloseTo(expectedCe(), 5);
    expect(value('ce', { classWeights: W })).toBeCloseTo(expectedCe(W), 5);
  });

  it('Dice averages the foreground classes only, weighted by their class weights', () => {
    expect(value('dice')).toBeCloseTo(expectedDice(), 5);
    expect(value('dice', { classWeights: W })).toBeCloseTo(expectedDice(W), 5);
    expect(value('ce+dice')).toBeCloseTo(expectedCe() + expectedDice(), 5);
  });

  it('focal and Tversky match their C-class formulas', () => {
    const focal = sumOver((i) => -[0, 1, 2].reduce((s, c) => s + W[c]! * Y[i]![c]! * (1 - P[i]![c]!) ** 2 * Math.log(P[i]![c]!), 0)) / 4;
    expect(value('focal', { classWeights: W })).toBeCloseTo(focal, 5);
    const tversky = [1, 2].map((c) => {
      const tp = sumOver((i) => P[i]![c]! * Y[i]![c]!);
      const fp = sumOver((i) => P[i]![c]! * (1 - Y[i]![c]!));
      const fn = sumOver((i) => (1 - P[i]![c]!) * Y[i]![c]!);
      return 1 - (tp + 1) / (tp + 0.3 * fp + 0.7 * fn + 1);
    });
    expect(value('tversky')).toBeCloseTo((tversky[0]! + tversky[1]!) / 2, 5);
  });

  it('stays finite, with finite gradients, for extreme logits', () => {
    const extreme = [
      [-800, 800, 0],
      [800, -800, -800],
      [0, 800, -800],
      [800, 800, -800],
    ];
    for (const name of LOSS_NAMES) {
      const z = tf.variable(t4(extreme));
      const { value: v, grads } = tf.variableGrads(() => createLoss(name)(z as unknown as tf.Tensor4D, t4(Y)), [z]);
      expect(Number.isFinite(v.dataSync()[0]), name).toBe(true);
      expect([...grads[z.name]!.dataSync()].every(Number.isFinite), name).toBe(true);
      // Three confidently wrong pixels cost 1600 nats each: (3 * 1600 + log 2) / 4.
      if (name === 'ce') expect(v.dataSync()[0]).toBeCloseTo((3 * 1600 + Math.log(2)) / 4, 0);
      z.dispose();
    }
  });

  it('a perfect confident prediction scores lower than a wrong one for every loss', () => {
    const perfect = Y.map((row) => row.map((v) => (v === Math.max(...row) ? 8 : -8)));
    const wrong = Y.map((row) => row.map((v) => (v === Math.max(...row) ? -8 : 8)));
    for (const name of LOSS_NAMES) expect(value(name, {}, perfect), name).toBeLessThan(value(name, {}, wrong));
  });
});
