import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { bilinearUpsample, upsampleMatrix } from '../../../../../src-main/engine/models/segformer/bilinear-upsample';
import { maxRelativeError } from '../../../../fixtures/relative-error';

describe('bilinear up-sampling with half-pixel centres', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('equals tf.image.resizeBilinear(halfPixelCenters) in the forward pass', () => {
    for (const factor of [2, 4, 8]) {
      const x = tf.randomUniform([2, 3, 5, 4], -1, 1, 'float32', factor) as tf.Tensor4D;
      const ours = bilinearUpsample(x, factor).dataSync();
      const stock = tf.image.resizeBilinear(x, [3 * factor, 5 * factor], false, true).dataSync();
      expect(maxRelativeError(ours, stock)).toBeLessThan(1e-6);
      x.dispose();
    }
  });

  it('has rows summing to 1 (a weighted average) and the PyTorch weights at the edges', () => {
    const m = upsampleMatrix(4, 2);
    for (let o = 0; o < 8; o++) expect(m.slice(o * 4, o * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // Output 0 clamps to input 0; output 1 sits at 0.25 between inputs 0 and 1.
    expect(Array.from(m.slice(0, 4))).toEqual([1, 0, 0, 0]);
    expect(Array.from(m.slice(4, 8))).toEqual([0.75, 0.25, 0, 0]);
  });

  it('has the adjoint as its gradient: <up(x), dy> = <x, grad> (tfjs’s own ResizeBilinearGrad ignores half-pixel centres)', () => {
    const x = tf.randomUniform([1, 4, 3, 2], -1, 1, 'float32', 1) as tf.Tensor4D;
    const dy = tf.randomUniform([1, 16, 12, 2], -1, 1, 'float32', 2);
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(bilinearUpsample(input as tf.Tensor4D, 4), dy)))(x);
    // Every input pixel's gradient is the dy-weighted sum of the outputs it feeds: check by a finite difference.
    const base = tf.sum(tf.mul(bilinearUpsample(x, 4), dy)).dataSync()[0]!;
    const bump = tf.tensor4d(Array.from({ length: 24 }, (_, i) => (i === 7 ? 1e-2 : 0)), [1, 4, 3, 2]);
    const bumped = tf.sum(tf.mul(bilinearUpsample(tf.add(x, bump) as tf.Tensor4D, 4), dy)).dataSync()[0]!;
    expect((bumped - base) / 1e-2).toBeCloseTo(grad.dataSync()[7]!, 3);
    const stockGrad = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(input as tf.Tensor4D, [16, 12], false, true), dy)))(x);
    expect(maxRelativeError(stockGrad.dataSync(), grad.dataSync())).toBeGreaterThan(1e-2);
    tf.dispose([x, dy, grad, bump, stockGrad]);
  });
});
