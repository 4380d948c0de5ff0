import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';

describe('wasm Identity shares the buffer', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('clones without a new wasm buffer, and the clone outlives the original', () => {
    const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const buffers = backend.dataIdMap.numDataIds();
    const copy = tf.clone(x);
    expect(backend.dataIdMap.numDataIds()).toBe(buffers);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    copy.dispose();
    expect(backend.dataIdMap.numDataIds()).toBe(buffers - 1);
  });

  it('a clone of a variable keeps the old value when the variable is assigned', () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const before = tf.clone(v);
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(before.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, before]);
  });

  it('gradients through saved tensors are unchanged (conv, ReLU, pooling) and nothing leaks', () => {
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 1);
    const f = tf.randomUniform([3, 3, 3, 4], -1, 1, 'float32', 2);
    const loss = (w: tf.Tensor) => tf.sum(tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')), 2, 2, 'valid'));
    const run = () => tf.tidy(() => tf.grad(loss)(f));
    const first = run();
    const tensors = tf.memory().numTensors;
    const second = run();
    expect(tf.memory().numTensors).toBe(tensors + 1);
    expect(Array.from(second.dataSync())).toEqual(Array.from(first.dataSync()));
    tf.dispose([first, second, x, f]);
  });

  it('a cast to the same dtype shares the buffer too; a real cast still converts', () => {
    const backend = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
    const x = tf.tensor([1.5, -2, 0, 3]);
    const buffers = backend.dataIdMap.numDataIds();
    const same = tf.cast(x, 'float32');
    expect(backend.dataIdMap.numDataIds()).toBe(buffers);
    const ints = tf.cast(x, 'int32');
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 0, 3]);
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 0, 3]);
    tf.dispose([same, ints]);
  });
});
