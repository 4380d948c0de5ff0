import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createLoss } from '../../../../src-main/engine/losses/segmentation-losses';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const t4 = (values: number[]) => tf.tensor4d(values, [1, 1, values.length, 1]);

describe('segmentation losses', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  const z = [2, -1, 0.5, -3];
  const y = [1, 0, 0.3, 0]; // 0.3: a soft (mixup) target

  it('BCE from logits matches the formula and stays finite for large logits', () => {
    const expected = z.reduce((s, zi, i) => s - (y[i]! * Math.log(sigmoid(zi)) + (1 - y[i]!) * Math.log(1 - sigmoid(zi))), 0) / z.length;
    expect(createLoss('bce')(t4(z), t4(y)).dataSync()[0]).toBeCloseTo(expected, 5);
    const extreme = createLoss('bce')(t4([500, -500]), t4([0, 1])).dataSync()[0]!;
    expect(extreme).toBeCloseTo(500, 3);
  });

  it('soft Dice, BCE+Dice, focal and Tversky match hand computation', () => {
    const p = z.map(sigmoid);
    const inter = p.reduce((s, pi, i) => s + pi * y[i]!, 0);
    const dice = 1 - (2 * inter + 1) / (p.reduce((s, v) => s + v, 0) + y.reduce((s, v) => s + v, 0) + 1);
    expect(createLoss('dice')(t4(z), t4(y)).dataSync()[0]).toBeCloseTo(dice, 5);
    const bce = createLoss('bce')(t4(z), t4(y)).dataSync()[0]!;
    expect(createLoss('bce+dice')(t4(z), t4(y)).dataSync()[0]).toBeCloseTo(bce + dice, 5);
    const focal = p.reduce((s, pi, i) => s - (0.25 * y[i]! * (1 - pi) ** 2 * Math.log(pi) + 0.75 * (1 - y[i]!) * pi ** 2 * Math.log(1 - pi)), 0) / 4;
    expect(createLoss('focal')(t4(z), t4(y)).dataSync()[0]).toBeCloseTo(focal, 5);
    const fp = p.reduce((s, pi, i) => s + pi * (1 - y[i]!), 0);
    const fn = p.reduce((s, pi, i) => s + (1 - pi) * y[i]!, 0);
    const tversky = 1 - (inter + 1) / (inter + 0.3 * fp + 0.7 * fn + 1);
    expect(createLoss('tversky')(t4(z), t4(y)).dataSync()[0]).toBeCloseTo(tversky, 5);
  });

  it('rewards better predictions and lists valid names on a typo', () => {
    const target = t4([1, 1, 0, 0]);
    for (const name of ['bce', 'dice', 'bce+dice', 'focal', 'tversky']) {
      const good = createLoss(name)(t4([4, 4, -4, -4]), target).dataSync()[0]!;
      const bad = createLoss(name)(t4([-4, 4, 4, -4]), target).dataSync()[0]!;
      expect(good).toBeLessThan(bad);
    }
    expect(() => createLoss('dcie')).toThrow(expect.objectContaining({ message: 'unknown loss "dcie"', fix: 'use one of: bce, dice, bce+dice, focal, tversky, ce, ce+dice' }));
  });
});
