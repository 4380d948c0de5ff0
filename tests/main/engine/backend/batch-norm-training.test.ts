import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasBatchNormTraining } from '../../../../src-main/engine/backend/batch-norm-training';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { BatchNormalization, batchNormalization } from '../../../../src-main/engine/models/batch-normalization-layer';
import { maxRelativeError } from '../../../fixtures/relative-error';

/** Output, input/gamma/beta gradients and the moving statistics after one training call, flattened. */
function trainingPass(layer: tfl.layers.Layer, shape: number[]): Float32Array[] {
  const x = tf.randomUniform(shape, -2, 3, 'float32', 7);
  const dy = tf.randomUniform(shape, -1, 1, 'float32', 8);
  if (!layer.built) layer.build(shape);
  // Non-trivial gamma and beta, the same on every backend.
  const c = shape[shape.length - 1]!;
  layer.setWeights([tf.linspace(0.5, 2, c), tf.linspace(-1, 1, c), tf.zeros([c]), tf.ones([c])]);
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read());
  const f = (input: tf.Tensor, _g: tf.Tensor, _b: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy));
  const y = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
  const grads = tf.grads(f)([x, gamma!, beta!]);
  const moving = layer.nonTrainableWeights.map((w) => w.read());
  return [y, ...grads, ...moving].map((t) => t.dataSync() as Float32Array);
}

const SHAPES = [
  [2, 16, 16, 16], // a U-Net level
  [4, 8, 8, 32],
  [1, 8, 8, 256], // SegFormer's decode-head batch norm (channels)
  [2, 5, 5, 6], // channels not a multiple of the kernels' groups of four
  [3, 4, 4, 3],
];

describe('fused training batch norm', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(SHAPES)('matches tfjs-layers on the cpu backend (output, gradients, moving statistics) for [%i, %i, %i, %i]', async (...shape) => {
    await tf.setBackend('cpu');
    const reference = tf.tidy(() => trainingPass(tfl.layers.batchNormalization({ momentum: 0.9 }), shape));
    const cpuFused = tf.tidy(() => trainingPass(batchNormalization({ momentum: 0.9 }), shape));
    await tf.setBackend('wasm');
    expect(hasBatchNormTraining()).toBe(true);
    const wasmFused = tf.tidy(() => trainingPass(batchNormalization({ momentum: 0.9 }), shape));
    const names = ['y', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance'];
    for (let k = 0; k < names.length; k++) {
      expect(maxRelativeError(cpuFused[k]!, reference[k]!), `cpu ${names[k]}`).toBeLessThan(1e-4);
      expect(maxRelativeError(wasmFused[k]!, reference[k]!), `wasm ${names[k]}`).toBeLessThan(1e-4);
    }
  });

  it('serialises as the stock class, and a model read back from JSON uses the fused layer', () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const model = tfl.model({ inputs: input, outputs: batchNormalization({ momentum: 0.9 }).apply(input) as tfl.SymbolicTensor });
    const json = model.toJSON(null, false) as unknown as { config: { layers: { class_name: string }[] } };
    expect(json.config.layers[1]!.class_name).toBe('BatchNormalization');
    return tfl.models.modelFromJSON({ modelTopology: json } as never).then((copy) => {
      expect(copy.layers[1]).toBeInstanceOf(BatchNormalization);
      copy.dispose();
      model.dispose();
    });
  });

  it('leaves no tensors behind in a training step', () => {
    const layer = batchNormalization({ momentum: 0.9 });
    const x = tf.randomUniform([2, 4, 4, 8]);
    const step = () => tf.tidy(() => tf.grads((a: tf.Tensor) => tf.sum(layer.apply(a, { training: true }) as tf.Tensor))([x]));
    step().forEach((t) => t.dispose());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step().forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
