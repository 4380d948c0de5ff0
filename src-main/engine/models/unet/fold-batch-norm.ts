import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildUnet, type UnetOptions } from './unet';

/**
 * An inference copy of a trained U-Net with each batch norm folded into the convolution before it:
 * `W' = W * s`, `b' = (b - mean) * s + beta` with `s = gamma / sqrt(var + eps)` per output channel,
 * and the ReLU fused into the convolution. Same outputs up to float rounding, fewer kernels.
 */
export function foldUnetForInference(trained: tfl.LayersModel, options: UnetOptions): tfl.LayersModel {
  const fused = buildUnet(options, true);
  const byName = new Map(trained.layers.map((l) => [l.name, l]));
  tf.tidy(() => {
    for (const layer of fused.layers) {
      const source = byName.get(layer.name);
      if (!source || layer.getWeights().length === 0) continue;
      const weights = source.getWeights();
      const match = /^(.*)_conv(\d)$/.exec(layer.name);
      if (!match) {
        layer.setWeights(weights);
        continue;
      }
      const kernel = weights[0]!;
      const bias = weights[1] ?? tf.zeros([kernel.shape[3]!]);
      const norm = byName.get(`${match[1]}_bn${match[2]}`);
      if (!norm) {
        layer.setWeights([kernel, bias]);
        continue;
      }
      const [gamma, beta, mean, variance] = norm.getWeights();
      const epsilon = (norm.getConfig() as { epsilon: number }).epsilon;
      const scale = tf.div(gamma!, tf.sqrt(tf.add(variance!, epsilon)));
      layer.setWeights([tf.mul(kernel, scale), tf.add(tf.mul(tf.sub(bias, mean!), scale), beta!)]);
    }
  });
  return fused;
}
