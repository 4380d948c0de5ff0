import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';

async function onBoth(compute: () => tf.Tensor[]): Promise<{ wasm: { values: number[]; shape: number[] }[]; cpu: { values: number[]; shape: number[] }[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const parts = tf.tidy(compute);
    const out = await Promise.all(parts.map(async (t) => ({ values: Array.from(await t.data()), shape: t.shape })));
    tf.dispose(parts);
    return out;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return { wasm, cpu };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('wasm SplitV matches the cpu backend exactly', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  // Channel splits of a U-Net skip (short runs, copied element by element), and splits along outer
  // axes whose runs are long enough for copyWithin (>= 256 floats).
  it.each([
    [[2, 5, 6, 48], [16, 32], 3],
    [[2, 3, 4, 7], [1, 0, 6], -1],
    [[2, 16, 20, 8], [4, 12], 1],
    [[40, 300], [10, 25, 5], 0],
    [[3, 600], [256, 344], 1],
  ] as const)('shape %j into %j along axis %i', async (shape, sizes, axis) => {
    const { wasm, cpu } = await onBoth(() => tf.split(rand([...shape], 3), [...sizes], axis));
    expect(wasm.map((p) => p.shape)).toEqual(cpu.map((p) => p.shape));
    expect(wasm.map((p) => p.values)).toEqual(cpu.map((p) => p.values));
  });

  it('leaves integer tensors to the stock kernel, unchanged in result', async () => {
    const { wasm } = await onBoth(() => tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [2, 1], 1));
    expect(wasm.map((p) => p.values)).toEqual([
      [1, 2, 4, 5],
      [3, 6],
    ]);
  });

  it('does not disturb the heap around its outputs', async () => {
    // Neighbouring tensors allocated before and after keep their values: the copies write only their runs.
    const before = tf.fill([1000], 7);
    const parts = tf.split(rand([4, 64, 96], 5), [32, 64], 2);
    const after = tf.fill([1000], 9);
    expect(new Set(await before.data())).toEqual(new Set([7]));
    expect(new Set(await after.data())).toEqual(new Set([9]));
    tf.dispose([before, after, ...parts]);
  });
});
