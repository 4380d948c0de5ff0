import * as tf from '@tensorflow/tfjs-core';
import { CovsegError } from '../errors';
import { crossEntropy, multiClassDice, multiClassFocal, multiClassTversky } from './multiclass-losses';

/**
 * A segmentation loss: `logits` and `targets` are `[batch, height, width, C]`: C = 1 for the binary
 * task (sigmoid), C >= 2 for classes (softmax, one-hot targets). Targets may be soft (0..1, e.g.
 * mixup), not only 0/1. Returns a scalar, the mean over the batch.
 */
export type SegmentationLoss = (logits: tf.Tensor4D, targets: tf.Tensor4D) => tf.Scalar;

export const LOSS_NAMES = ['bce', 'dice', 'bce+dice', 'focal', 'tversky', 'ce', 'ce+dice'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface LossOptions {
  /** Smoothing added to numerator and denominator of Dice and Tversky (keeps empty masks finite). */
  smooth?: number;
  /** Focal: weight of the lesion class, and the focusing exponent. */
  alpha?: number;
  gamma?: number;
  /** Tversky: weights of false positives and false negatives. */
  fpWeight?: number;
  fnWeight?: number;
  /** Three-class runs: one weight per class (background first) for CE, focal, Dice and Tversky. */
  classWeights?: number[];
}

const SPATIAL: number[] = [1, 2, 3];

/**
 * Binary cross-entropy from logits z with target y, in the stable form
 * `max(z, 0) - z*y + log(1 + exp(-|z|))`, averaged over pixels and batch.
 */
export function bceWithLogits(logits: tf.Tensor4D, targets: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.softplus(tf.neg(tf.abs(logits))))) as tf.Scalar);
}

/** Soft Dice loss per image, `1 - (2*sum(p*y) + s) / (sum(p) + sum(y) + s)` with `p = sigmoid(z)`, averaged over the batch. */
export function softDice(logits: tf.Tensor4D, targets: tf.Tensor4D, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const intersection = tf.sum(tf.mul(p, targets), SPATIAL);
    const denominator = tf.add(tf.sum(p, SPATIAL), tf.sum(targets, SPATIAL));
    const dice = tf.div(tf.add(tf.mul(intersection, 2), smooth), tf.add(denominator, smooth));
    return tf.mean(tf.sub(1, dice)) as tf.Scalar;
  });
}

/**
 * Focal loss (Lin et al. 2017) for soft targets:
 * `-alpha*y*(1-p)^gamma*log(p) - (1-alpha)*(1-y)*p^gamma*log(1-p)`, with `log p = -softplus(-z)`.
 */
export function focal(logits: tf.Tensor4D, targets: tf.Tensor4D, alpha = 0.25, gamma = 2): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const logP = tf.neg(tf.softplus(tf.neg(logits)));
    const logNotP = tf.neg(tf.softplus(logits));
    const positive = tf.mul(tf.mul(tf.mul(targets, alpha), tf.pow(tf.sub(1, p), gamma)), logP);
    const negative = tf.mul(tf.mul(tf.mul(tf.sub(1, targets), 1 - alpha), tf.pow(p, gamma)), logNotP);
    return tf.neg(tf.mean(tf.add(positive, negative))) as tf.Scalar;
  });
}

/**
 * Tversky loss (Salehi et al. 2017) per image: `1 - (TP + s) / (TP + a*FP + b*FN + s)` with soft
 * counts `TP = sum(p*y)`, `FP = sum(p*(1-y))`, `FN = sum((1-p)*y)`; a = b = 0.5 is soft Dice.
 */
export function tversky(logits: tf.Tensor4D, targets: tf.Tensor4D, fpWeight = 0.3, fnWeight = 0.7, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const tp = tf.sum(tf.mul(p, targets), SPATIAL);
    const fp = tf.sum(tf.mul(p, tf.sub(1, targets)), SPATIAL);
    const fn = tf.sum(tf.mul(tf.sub(1, p), targets), SPATIAL);
    const index = tf.div(tf.add(tp, smooth), tf.add(tf.add(tf.add(tp, tf.mul(fp, fpWeight)), tf.mul(fn, fnWeight)), smooth));
    return tf.mean(tf.sub(1, index)) as tf.Scalar;
  });
}

/**
 * The multi-class form of a loss, for logits with C >= 2 channels: `bce`/`ce` is cross-entropy,
 * `dice` the soft Dice over foreground classes, `focal` and `tversky` their C-class forms.
 */
function multiClassLoss(name: LossName, options: LossOptions, logits: tf.Tensor4D, targets: tf.Tensor4D): tf.Scalar {
  const smooth = options.smooth ?? 1;
  const w = options.classWeights;
  switch (name) {
    case 'bce':
    case 'ce':
      return crossEntropy(logits, targets, w);
    case 'dice':
      return multiClassDice(logits, targets, smooth, w);
    case 'bce+dice':
    case 'ce+dice':
      return tf.tidy(() => tf.add(crossEntropy(logits, targets, w), multiClassDice(logits, targets, smooth, w)) as tf.Scalar);
    case 'focal':
      return multiClassFocal(logits, targets, options.gamma ?? 2, w);
    case 'tversky':
      return multiClassTversky(logits, targets, options.fpWeight ?? 0.3, options.fnWeight ?? 0.7, smooth, w);
  }
}

/**
 * Looks a loss up by name; a wrong name fails with the list of valid ones. The loss follows the
 * logits' channel count: one channel is the binary form, more channels the multi-class form.
 */
export function createLoss(name: string, options: LossOptions = {}): SegmentationLoss {
  if (!(LOSS_NAMES as readonly string[]).includes(name)) {
    throw new CovsegError('bad-parameter', `unknown loss "${name}"`, { fix: `use one of: ${LOSS_NAMES.join(', ')}` });
  }
  const binary = binaryLoss(name as LossName, options);
  return (z, y) => (z.shape[3] > 1 ? multiClassLoss(name as LossName, options, z, y) : binary(z, y));
}

function binaryLoss(name: LossName, options: LossOptions): SegmentationLoss {
  const smooth = options.smooth ?? 1;
  switch (name) {
    case 'bce':
    case 'ce':
      return bceWithLogits;
    case 'dice':
      return (z, y) => softDice(z, y, smooth);
    case 'bce+dice':
    case 'ce+dice':
      return (z, y) => tf.tidy(() => tf.add(bceWithLogits(z, y), softDice(z, y, smooth)) as tf.Scalar);
    case 'focal':
      return (z, y) => focal(z, y, options.alpha ?? 0.25, options.gamma ?? 2);
    case 'tversky':
      return (z, y) => tversky(z, y, options.fpWeight ?? 0.3, options.fnWeight ?? 0.7, smooth);
  }
}
