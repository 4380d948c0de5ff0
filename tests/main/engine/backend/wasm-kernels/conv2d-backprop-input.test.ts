import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { maxRelativeError } from '../../../../fixtures/relative-error';

async function onBoth(compute: () => tf.Tensor): Promise<{ wasm: Float32Array; cpu: Float32Array }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const t = tf.tidy(compute);
    const values = (await t.data()) as Float32Array;
    t.dispose();
    return values;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return { wasm, cpu };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

// SegFormer's patch embeddings: explicit k // 2 padding, then a 'valid' strided convolution.
type Case = [h: number, w: number, ci: number, co: number, k: number, stride: number, pad: 'same' | 'valid'];
const CASES: Case[] = [
  [16, 16, 3, 8, 3, 2, 'valid'],
  [18, 14, 4, 6, 7, 4, 'valid'],
  [13, 13, 5, 3, 3, 2, 'same'],
  [12, 10, 2, 4, 5, 3, 'same'],
];

describe('wasm Conv2DBackpropInput for strided convolutions matches the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(CASES)('%ix%i ci%i co%i k%i s%i %s: input and filter gradients', async (h, w, ci, co, k, s, pad) => {
    const filter = rand([k, k, ci, co], 2) as tf.Tensor4D;
    const x0 = rand([2, h, w, ci], 1);
    const dy = () => rand(tf.conv2d(x0 as tf.Tensor4D, filter, s, pad).shape, 3);
    const input = await onBoth(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, filter, s, pad), dy())))(x0));
    expect(maxRelativeError(input.wasm, input.cpu)).toBeLessThan(1e-5);
    const kernel = await onBoth(() => tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x0 as tf.Tensor4D, f as tf.Tensor4D, s, pad), dy())))(filter));
    expect(maxRelativeError(kernel.wasm, kernel.cpu)).toBeLessThan(1e-4);
  });
});
