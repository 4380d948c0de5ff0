import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../../random/seeded-random';
import { param, stateParam, type ParamStore } from './params';

/** What a forward pass needs besides its input: the weights, a seeded source for new weights, and whether it trains. */
export interface Net {
  store: ParamStore;
  random: Random;
  /** Spectral normalisation on every convolution kernel (DAGAN's discriminator). */
  spectral?: boolean;
}

/**
 * The seed of sample `sample`'s random draws (dropout masks, DAGAN noise) in a forward pass seeded
 * `seed`: the seed offset by `sample` x 2^25 (step and generation seeds stay below 2^25, so no two
 * (seed, sample) meet). A sample's noise then depends on its index in the batch, never on how a
 * data-parallel step splits the batch; sample 0 keeps the plain seed, as one-image generation always had.
 */
export function sampleSeed(seed: number, sample: number): number {
  return seed + sample * 2 ** 25;
}

/**
 * Spectrally normalised kernel W / sigma(W), after Miyato et al. 2018: sigma is estimated as
 * `v^T W u` with the power-iteration vectors `u`, `v` held as state (updated by {@link powerIterate},
 * never differentiated), so the gradient flows through W only, as in PyTorch's spectral_norm.
 */
export function spectralNormalised(net: Net, name: string, kernel: tf.Tensor4D): tf.Tensor4D {
  const outChannels = kernel.shape[3];
  const rows = kernel.size / outChannels;
  const u = stateParam(net.store, `${name}/sn_u`, outChannels, net.random);
  const v = stateParam(net.store, `${name}/sn_v`, rows, net.random);
  const matrix = tf.reshape(kernel, [rows, outChannels]);
  const sigma = tf.sum(tf.mul(v, tf.matMul(matrix, u)));
  return tf.div(kernel, sigma);
}

/** One power iteration for every spectrally normalised kernel of `net`: v = W u / |W u|, u = W^T v / |W^T v|. */
export function powerIterate(net: Net): void {
  tf.tidy(() => {
    for (const [name, u] of net.store.state) {
      if (!name.endsWith('/sn_u')) continue;
      const base = name.slice(0, -'/sn_u'.length);
      const v = net.store.state.get(`${base}/sn_v`)!;
      const kernel = net.store.trainable.get(`${base}/kernel`)!;
      const matrix = tf.reshape(kernel, [v.shape[0]!, u.shape[0]!]);
      const nextV = tf.matMul(matrix, u);
      const normV = tf.div(nextV, tf.add(tf.norm(nextV), 1e-12));
      const nextU = tf.matMul(matrix, normV, true, false);
      v.assign(normV as tf.Tensor2D);
      u.assign(tf.div(nextU, tf.add(tf.norm(nextU), 1e-12)) as tf.Tensor2D);
    }
  });
}

function kernelOf(net: Net, name: string, shape: [number, number, number, number]): tf.Tensor4D {
  const kernel = param(net.store, `${name}/kernel`, shape, 'weight', net.random) as tf.Tensor4D;
  return net.spectral ? spectralNormalised(net, name, kernel) : kernel;
}

/** 4x4 convolution, `same` padding: `[b, h, w, cin]` to `[b, h/stride, w/stride, filters]`. */
export function conv(net: Net, name: string, x: tf.Tensor4D, filters: number, stride: 1 | 2, bias = true): tf.Tensor4D {
  const y = tf.conv2d(x, kernelOf(net, name, [4, 4, x.shape[3], filters]), stride, 'same');
  return bias ? tf.add(y, param(net.store, `${name}/bias`, [filters], 'zero', net.random)) : y;
}

/** 4x4 stride-2 transposed convolution: `[b, h, w, cin]` to `[b, 2h, 2w, filters]`. */
export function convTranspose(net: Net, name: string, x: tf.Tensor4D, filters: number, bias = true): tf.Tensor4D {
  const [b, h, w, cin] = x.shape;
  const kernel = param(net.store, `${name}/kernel`, [4, 4, filters, cin], 'weight', net.random) as tf.Tensor4D;
  const y = tf.conv2dTranspose(x, kernel, [b, h * 2, w * 2, filters], 2, 'same');
  return bias ? tf.add(y, param(net.store, `${name}/bias`, [filters], 'zero', net.random)) : y;
}

/**
 * Instance normalisation with a learned scale and shift: pix2pix trains with batch norm at batch 1
 * and keeps test-time batch statistics, which is instance normalisation; it also makes every
 * generated image independent of what else is in its batch (so generation is deterministic per pair).
 */
export function instanceNorm(net: Net, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const channels = x.shape[3];
  const { mean, variance } = tf.moments(x, [1, 2], true);
  const normalised = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  return tf.add(tf.mul(normalised, param(net.store, `${name}/gamma`, [channels], 'scale', net.random)), param(net.store, `${name}/beta`, [channels], 'zero', net.random));
}

/** Binary cross-entropy from logits, mean over all elements: max(l, 0) - l z + log(1 + e^-|l|). */
export function bceFromLogits(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  const positive = tf.relu(logits);
  const linear = target === 1 ? tf.sub(positive, logits) : positive;
  return tf.mean(tf.add(linear, tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}
