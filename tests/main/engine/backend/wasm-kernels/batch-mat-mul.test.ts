import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { maxRelativeError } from '../../../../fixtures/relative-error';

/** Runs `compute` on wasm (with this project's kernels) and on the reference cpu backend. */
async function onBoth(compute: () => tf.Tensor | tf.Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(compute);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => ({ shape: t.shape, data: (await t.data()) as Float32Array })));
    tf.dispose(list);
    return values;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  expect(wasm.map((w) => w.shape)).toEqual(cpu.map((c) => c.shape));
  return { wasm: wasm.map((w) => w.data), cpu: cpu.map((c) => c.data) };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

type Case = [aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean];
const CASES: Case[] = [
  [[5, 7], [7, 3], false, false],
  [[7, 5], [7, 3], true, false],
  [[5, 7], [3, 7], false, true],
  [[7, 5], [3, 7], true, true],
  [[4, 6, 8], [4, 8, 5], false, false],
  [[4, 6, 8], [4, 5, 8], false, true],
  [[4, 8, 6], [4, 8, 5], true, false],
  [[2, 3, 6, 8], [2, 3, 5, 8], false, true],
];
// Broadcast batches: forward only (tfjs-core's own gradient does not reduce a broadcast batch).
const BROADCAST: Case[] = [
  [[4, 6, 8], [1, 8, 5], false, false],
  [[4, 8, 6], [5, 8], true, true],
  [[1, 6, 8], [4, 5, 8], false, true],
];

describe('wasm BatchMatMul matches the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(CASES)('a %j x b %j, transposeA %s, transposeB %s: product and both gradients', async (aShape, bShape, ta, tb) => {
    const { wasm, cpu } = await onBoth(() => {
      const a = rand(aShape, 1);
      const b = rand(bShape, 2);
      const product = tf.matMul(a, b, ta, tb);
      const dy = rand(product.shape, 3);
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), dy)))([a, b]);
      return [product, ...grads];
    });
    for (let i = 0; i < cpu.length; i++) expect(maxRelativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-5);
  });

  it.each(BROADCAST)('a %j x b %j, transposeA %s, transposeB %s: broadcast product', async (aShape, bShape, ta, tb) => {
    const { wasm, cpu } = await onBoth(() => tf.matMul(rand(aShape, 1), rand(bShape, 2), ta, tb));
    expect(maxRelativeError(wasm[0]!, cpu[0]!)).toBeLessThan(1e-5);
  });

  it('keeps the wasm heap clean: no tensors or bytes left behind', async () => {
    const before = tf.memory();
    tf.tidy(() => tf.matMul(rand([3, 4, 5], 1), rand([3, 6, 5], 2), false, true).dataSync());
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });
});
