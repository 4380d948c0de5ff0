import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';

async function onBoth(compute: () => tf.Tensor): Promise<{ wasm: Float32Array | Int32Array; cpu: Float32Array | Int32Array; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const t = tf.tidy(compute);
    const values = { data: (await t.data()) as Float32Array | Int32Array, shape: t.shape };
    t.dispose();
    return values;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return { wasm: wasm.data, cpu: cpu.data, shapes: [wasm.shape, cpu.shape] };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('wasm Concat matches the cpu backend exactly', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each([
    [[[2, 3, 4, 5], [2, 3, 4, 7], [2, 3, 4, 1]], 3],
    [[[2, 3, 4, 5], [2, 1, 4, 5]], 1],
    [[[2, 3], [4, 3]], 0],
    [[[2, 3, 4], [2, 0, 4], [2, 2, 4]], -2],
  ] as const)('shapes %j along axis %i', async (shapes, axis) => {
    const { wasm, cpu, shapes: outShapes } = await onBoth(() => tf.concat(shapes.map((s, k) => rand([...s], k + 1)), axis));
    expect(outShapes[0]).toEqual(outShapes[1]);
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
  });

  it('leaves integer tensors to the stock kernel, unchanged in result', async () => {
    const { wasm, cpu } = await onBoth(() => tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6], [2, 1], 'int32')], 1));
    expect(Array.from(wasm)).toEqual([1, 2, 5, 3, 4, 6]);
    expect(Array.from(cpu)).toEqual([1, 2, 5, 3, 4, 6]);
  });

  it('gives the gradient of a concatenation through SplitV unchanged', async () => {
    const { wasm, cpu } = await onBoth(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, tf.mul(x, 2)], 2), rand([2, 3, 8], 9))))(rand([2, 3, 4], 1)));
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
  });
});
