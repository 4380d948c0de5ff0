import * as tf from '@tensorflow/tfjs-core';
import { conv, instanceNorm, type Net } from './ops';

/**
 * The 70x70 PatchGAN (Isola et al. 2017): C64-C128-C256-C512 with 4x4 kernels (the first three
 * stride 2, the last stride 1), LeakyReLU 0.2, norm on all but the first, then a 4x4 convolution to
 * one logit per patch. With `net.spectral` (DAGAN) spectral normalisation replaces the norm layers.
 * Input `[b, s, s, c]` (condition and candidate concatenated), output logits `[b, s/8, s/8, 1]`.
 */
export function patchDiscriminator(net: Net, input: tf.Tensor4D, filters: number): tf.Tensor4D {
  let x = tf.leakyRelu(conv(net, 'd/c0', input, filters, 2), 0.2);
  const plan: [number, 1 | 2][] = [
    [filters * 2, 2],
    [filters * 4, 2],
    [filters * 8, 1],
  ];
  plan.forEach(([f, stride], k) => {
    x = conv(net, `d/c${k + 1}`, x, f, stride, Boolean(net.spectral));
    if (!net.spectral) x = instanceNorm(net, `d/c${k + 1}/norm`, x);
    x = tf.leakyRelu(x, 0.2);
  });
  return conv(net, 'd/out', x, 1, 1);
}
