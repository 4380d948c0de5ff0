import * as tf from '@tensorflow/tfjs-core';
import { conv, convTranspose, instanceNorm, sampleSeed, type Net } from './ops';

export interface GeneratorShape {
  /** Down-sampling steps; the bottleneck is size / 2^levels (1x1 at 8 levels on 256 px, as pix2pix). */
  levels: number;
  /** Filters of the first level (64 in pix2pix), doubled per level up to 8x. */
  filters: number;
}

/** Levels for a slice side: down to 1x1, at most 8 (pix2pix's U-Net-256). */
export function levelsFor(size: number): number {
  return Math.min(8, Math.round(Math.log2(size)));
}

const filtersAt = (shape: GeneratorShape, level: number) => shape.filters * Math.min(2 ** level, 8);

/**
 * The pix2pix U-Net generator (Isola et al. 2017): 4x4 stride-2 convolutions down (LeakyReLU 0.2,
 * instance norm except the first and the innermost), 4x4 stride-2 transposed convolutions up (ReLU,
 * norm), skip connections by concatenation, tanh output. `dropout` gives the keep masks of the
 * three innermost up-blocks — pix2pix's only noise source, kept on when generating.
 * `noise` (DAGAN) is concatenated to the bottleneck. Input `[b, s, s, c]`, output `[b, s, s, 1]` in -1..1.
 */
export function unetGenerator(net: Net, input: tf.Tensor4D, shape: GeneratorShape, options: { dropout?: (k: number, shape: number[]) => tf.Tensor; noise?: tf.Tensor4D } = {}): tf.Tensor4D {
  const skips: tf.Tensor4D[] = [];
  let x = conv(net, 'g/down0', input, filtersAt(shape, 0), 2);
  skips.push(x);
  for (let level = 1; level < shape.levels; level++) {
    x = conv(net, `g/down${level}`, tf.leakyRelu(x, 0.2), filtersAt(shape, level), 2, level === shape.levels - 1);
    if (level < shape.levels - 1) x = instanceNorm(net, `g/down${level}/norm`, x);
    skips.push(x);
  }
  if (options.noise) x = tf.concat([x, options.noise], 3);
  for (let k = 0; k < shape.levels - 1; k++) {
    const level = shape.levels - 2 - k;
    x = convTranspose(net, `g/up${k}`, tf.relu(x), filtersAt(shape, level), false);
    x = instanceNorm(net, `g/up${k}/norm`, x);
    if (k < 3 && options.dropout) x = tf.mul(x, options.dropout(k, x.shape));
    x = tf.concat([x, skips[level]!], 3);
  }
  return tf.tanh(convTranspose(net, 'g/out', tf.relu(x), 1));
}

/**
 * Keep masks for dropout 0.5 (scaled by 2), drawn by tfjs's seeded uniform generator per sample
 * (`sampleSeed`; the batch's first row is sample `firstSample`), so the same seed gives the same
 * masks (and the same generated image) on every run, whatever the batch is split into.
 */
export function dropoutMasks(seed: number, firstSample = 0): (k: number, shape: number[]) => tf.Tensor {
  return (k, shape) => {
    const one = [1, ...shape.slice(1)];
    const masks = Array.from({ length: shape[0]! }, (_, j) => tf.mul(tf.cast(tf.greaterEqual(tf.randomUniform(one, 0, 1, 'float32', sampleSeed(seed, firstSample + j) * 16 + k), 0.5), 'float32'), 2));
    return masks.length === 1 ? masks[0]! : tf.concat(masks, 0);
  };
}
