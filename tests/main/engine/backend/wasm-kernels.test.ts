import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { maxRelativeError } from '../../../fixtures/relative-error';

/** Runs `compute` on wasm (with this project's kernels) and on the reference cpu backend. */
async function onBoth(compute: () => tf.Tensor): Promise<{ wasm: Float32Array; cpu: Float32Array; shape: number[] }> {
  await tf.setBackend('wasm');
  const a = tf.tidy(compute);
  const wasm = (await a.data()) as Float32Array;
  const shape = a.shape;
  a.dispose();
  await tf.setBackend('cpu');
  const b = tf.tidy(compute);
  const cpu = (await b.data()) as Float32Array;
  expect(b.shape).toEqual(shape);
  b.dispose();
  await tf.setBackend('wasm');
  return { wasm, cpu, shape };
}



const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

type Case = [h: number, w: number, ci: number, co: number, k: number, stride: number, pad: 'same' | 'valid'];
const CONV_CASES: Case[] = [
  [9, 7, 3, 5, 3, 1, 'same'],
  [8, 8, 16, 8, 3, 1, 'same'],
  [10, 10, 4, 6, 3, 2, 'same'],
  [11, 9, 2, 3, 3, 2, 'valid'],
  [8, 8, 3, 4, 2, 2, 'valid'],
  [7, 7, 2, 2, 1, 1, 'valid'],
  [13, 11, 5, 7, 5, 1, 'same'],
  [9, 9, 3, 3, 3, 1, 'valid'],
  // 2x2 stride 2 with an unread last row and column; SegFormer's 7x7 stride-4 and 3x3 stride-2 patch embeddings.
  [9, 9, 3, 4, 2, 2, 'valid'],
  [16, 16, 3, 8, 7, 4, 'same'],
  [12, 12, 8, 8, 3, 2, 'same'],
  // U-Net shapes (smaller images): first layer, a level's convolutions, the 1x1 logits.
  [32, 32, 1, 16, 3, 1, 'same'],
  [12, 12, 16, 16, 3, 1, 'same'],
  [16, 16, 16, 1, 1, 1, 'valid'],
];

describe('wasm gradient kernels match the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(CONV_CASES)('Conv2DBackpropFilter %ix%i ci%i co%i k%i s%i %s', async (h, w, ci, co, k, s, pad) => {
    const { wasm, cpu } = await onBoth(() => {
      const x = rand([2, h, w, ci], 1) as tf.Tensor4D;
      const y = tf.conv2d(x, rand([k, k, ci, co], 2) as tf.Tensor4D, s, pad);
      const dy = rand(y.shape, 3);
      return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, s, pad), dy)))(rand([k, k, ci, co], 2));
    });
    expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
  });

  it.each(CONV_CASES)('Conv2DBackpropInput %ix%i ci%i co%i k%i s%i %s', async (h, w, ci, co, k, s, pad) => {
    const { wasm, cpu } = await onBoth(() => {
      const x0 = rand([2, h, w, ci], 1);
      const f = rand([k, k, ci, co], 2) as tf.Tensor4D;
      const dy = rand(tf.conv2d(x0 as tf.Tensor4D, f, s, pad).shape, 3);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, f, s, pad), dy)))(x0);
    });
    expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
  });

  it.each([
    [2, 5, 6, 4, 3],
    [1, 4, 4, 16, 8],
  ])('2x2 stride-2 transposed convolution and its gradients, batch %i %ix%i ci%i co%i', async (n, h, w, ci, co) => {
    const forward = await onBoth(() => tf.conv2dTranspose(rand([n, h, w, ci], 1) as tf.Tensor4D, rand([2, 2, co, ci], 2) as tf.Tensor4D, [n, 2 * h, 2 * w, co], 2, 'valid'));
    expect(maxRelativeError(forward.wasm, forward.cpu)).toBeLessThan(1e-4);
    const grads = await onBoth(() => {
      const x = rand([n, h, w, ci], 1) as tf.Tensor4D;
      const f = rand([2, 2, co, ci], 2) as tf.Tensor4D;
      const dy = rand([n, 2 * h, 2 * w, co], 3);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [n, 2 * h, 2 * w, co], 2, 'valid'), dy)))([x, f]);
      return tf.concat([tf.reshape(g[0]!, [-1]), tf.reshape(g[1]!, [-1])]);
    });
    expect(maxRelativeError(grads.wasm, grads.cpu)).toBeLessThan(1e-4);
  });

  it.each([
    [9, 3, 1, 'same'],
    [8, 2, 2, 'valid'],
    [7, 8, 1, 'same'],
    [6, 4, 3, 'same'],
  ] as const)('depthwise gradients %i px, %i channels, multiplier %i, %s', async (h, c, m, pad) => {
    const filter = await onBoth(() => {
      const x = rand([2, h, h, c], 1) as tf.Tensor4D;
      const f0 = rand([3, 3, c, m], 2);
      const dy = rand(tf.depthwiseConv2d(x, f0 as tf.Tensor4D, 1, pad).shape, 3);
      return tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(x, f as tf.Tensor4D, 1, pad), dy)))(f0);
    });
    expect(maxRelativeError(filter.wasm, filter.cpu)).toBeLessThan(1e-4);
    const input = await onBoth(() => {
      const x0 = rand([2, h, h, c], 1);
      const f = rand([3, 3, c, m], 2) as tf.Tensor4D;
      const dy = rand(tf.depthwiseConv2d(x0 as tf.Tensor4D, f, 1, pad).shape, 3);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(x as tf.Tensor4D, f, 1, pad), dy)))(x0);
    });
    expect(maxRelativeError(input.wasm, input.cpu)).toBeLessThan(1e-4);
  });

  it.each([
    [2, 8, 8, 3, 2, 2, 'valid'],
    [1, 9, 7, 5, 2, 2, 'valid'],
    [2, 16, 16, 16, 2, 2, 'valid'],
    // Not the U-Net's pooling: the stock kernel.
    [1, 7, 7, 2, 3, 2, 'same'],
  ] as const)('MaxPoolGrad [%i, %i, %i, %i], window %i, stride %i, %s', async (n, h, w, c, f, s, pad) => {
    const { wasm, cpu } = await onBoth(() => {
      const x0 = rand([n, h, w, c], 1);
      const dy = rand(tf.maxPool(x0 as tf.Tensor4D, f, s, pad).shape, 3);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, f, s, pad), dy)))(x0);
    });
    expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
  });

  it('MaxPoolGrad sends a tied window its gradient once, at the first largest input (as the cpu backend)', async () => {
    const { wasm, cpu } = await onBoth(() => {
      const x0 = tf.tensor4d([0, 0, 0, 0, 5, 1, 5, 5, 2, 2, 2, 2, 0, 0, 0, 0], [1, 4, 4, 1]);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')))(x0);
    });
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
    expect(wasm.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('frees every intermediate: no tensors or wasm buffers left behind', async () => {
    const x = rand([2, 8, 8, 4], 1) as tf.Tensor4D;
    const f = rand([3, 3, 4, 4], 2);
    const dy = rand([2, 8, 8, 4], 3);
    const step = () => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), dy)))(f);
    step().dispose();
    const before = tf.memory().numTensors;
    const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
    const buffersBefore = backend.dataIdMap.numDataIds();
    for (let i = 0; i < 5; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(backend.dataIdMap.numDataIds()).toBe(buffersBefore);
  });
});
