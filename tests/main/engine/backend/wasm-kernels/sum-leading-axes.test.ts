import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { maxRelativeError } from '../../../../fixtures/relative-error';

async function onBoth(compute: () => tf.Tensor): Promise<{ wasm: Float32Array; cpu: Float32Array; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const t = tf.tidy(compute);
    const values = { data: (await t.data()) as Float32Array, shape: t.shape };
    t.dispose();
    return values;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return { wasm: wasm.data, cpu: cpu.data, shapes: [wasm.shape, cpu.shape] };
}

describe('wasm Sum matches the cpu backend', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each([
    [[1000, 7], [0], false],
    [[4, 9, 5, 3], [0, 1, 2], false],
    [[4, 9, 5, 3], [1, 0], true],
    [[6, 5], [1], false],
    [[3, 4, 5], [0, 2], false],
    [[3, 4, 5], [], false],
  ] as const)('%j over axes %j, keepDims %s', async (shape, axes, keepDims) => {
    const { wasm, cpu, shapes } = await onBoth(() => tf.sum(tf.randomUniform([...shape], -1, 1, 'float32', 4), [...axes], keepDims));
    expect(shapes[0]).toEqual(shapes[1]);
    expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-5);
  });

  it('leaves integer sums to the stock kernel', async () => {
    const { wasm } = await onBoth(() => tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0));
    expect(Array.from(wasm)).toEqual([4, 6]);
  });
});
