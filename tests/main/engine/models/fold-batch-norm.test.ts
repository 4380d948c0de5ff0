import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createModel, inferenceCopy, resolveModelSpec } from '../../../../src-main/engine/models/registry';
import { maxRelativeError } from '../../../fixtures/relative-error';

describe('U-Net inference with batch norm folded into the convolutions', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('gives the same logits as the trained model in inference mode, with fewer layers', () => {
    const spec = resolveModelSpec('unet', { depth: 2, baseFilters: 4 });
    const trained = createModel('unet', spec.options);
    // Non-trivial statistics, as after training: random gamma, beta, moving mean and variance.
    tf.tidy(() => {
      let seed = 10;
      for (const layer of trained.layers.filter((l) => l.name.includes('_bn'))) {
        const [g, b, m, v] = layer.getWeights();
        layer.setWeights([tf.randomUniform(g!.shape, 0.5, 1.5, 'float32', seed++), tf.randomUniform(b!.shape, -0.5, 0.5, 'float32', seed++), tf.randomUniform(m!.shape, -0.2, 0.2, 'float32', seed++), tf.randomUniform(v!.shape, 0.5, 2, 'float32', seed++)]);
      }
    });
    const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 3);
    const expected = tf.tidy(() => (trained.apply(x, { training: false }) as tf.Tensor).dataSync());
    const { model, release } = inferenceCopy(trained, spec);
    const actual = tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
    expect(model.layers.length).toBeLessThan(trained.layers.length);
    expect(maxRelativeError(actual, expected)).toBeLessThan(1e-4);
    const before = tf.memory().numTensors;
    release();
    expect(tf.memory().numTensors).toBeLessThan(before);
    trained.dispose();
  });
});
