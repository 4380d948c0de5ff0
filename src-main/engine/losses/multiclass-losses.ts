import * as tf from '@tensorflow/tfjs-core';

/**
 * Losses for C >= 2 classes with softmax over the channel axis. `logits` and `targets` are
 * `[batch, height, width, C]`; targets are one-hot or soft one-hot (each pixel's values sum to 1,
 * as mixup makes them). Class 0 is background. `weights` (length C) weight the classes; all 1 when
 * absent. Every loss returns a scalar, the mean over the batch.
 */
export type ClassWeights = readonly number[] | undefined;

const SPATIAL: number[] = [1, 2];

function weightVector(weights: ClassWeights, classes: number): tf.Tensor1D {
  return tf.tensor1d(weights ? [...weights] : new Array<number>(classes).fill(1));
}

/** Foreground part `[..., 1:C]` of a channels-last tensor. */
function foreground(t: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = t.shape;
  return tf.slice(t, [0, 0, 0, 1], [b, h, w, c - 1]);
}

/**
 * Cross-entropy for soft targets, `-sum_c w_c * y_c * log softmax(z)_c` averaged over pixels (as
 * PyTorch's `cross_entropy` with probability targets and `weight`); `log softmax` is computed as
 * `z - logsumexp(z)`, finite for any logits.
 */
export function crossEntropy(logits: tf.Tensor4D, targets: tf.Tensor4D, weights?: ClassWeights): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    const perPixel = tf.sum(tf.mul(tf.mul(targets, logP), weightVector(weights, logits.shape[3])), -1);
    return tf.neg(tf.mean(perPixel)) as tf.Scalar;
  });
}

/** Per-image, per-foreground-class values `[batch, C-1]` averaged with the foreground weights, then over the batch. */
function weightedClassMean(values: tf.Tensor2D, weights: ClassWeights, classes: number): tf.Scalar {
  const w = tf.slice(weightVector(weights, classes), [1], [classes - 1]);
  return tf.mean(tf.div(tf.sum(tf.mul(values, w), -1), tf.sum(w))) as tf.Scalar;
}

/**
 * Soft Dice over the foreground classes: per image and class c >= 1,
 * `1 - (2*sum(p_c*y_c) + s) / (sum(p_c) + sum(y_c) + s)` with `p = softmax(z)`; the class values are
 * averaged (weighted by `w_c`), then over the batch. Background is left out, as nnU-Net does.
 */
export function multiClassDice(logits: tf.Tensor4D, targets: tf.Tensor4D, smooth = 1, weights?: ClassWeights): tf.Scalar {
  return tf.tidy(() => {
    const p = foreground(tf.softmax(logits));
    const y = foreground(targets);
    const intersection = tf.sum(tf.mul(p, y), SPATIAL);
    const denominator = tf.add(tf.sum(p, SPATIAL), tf.sum(y, SPATIAL));
    const dice = tf.div(tf.add(tf.mul(intersection, 2), smooth), tf.add(denominator, smooth));
    return weightedClassMean(tf.sub(1, dice) as tf.Tensor2D, weights, logits.shape[3]);
  });
}

/**
 * Focal loss (Lin et al. 2017) generalised to C classes:
 * `-sum_c w_c * y_c * (1 - p_c)^gamma * log p_c`, averaged over pixels; `w` plays alpha's part.
 */
export function multiClassFocal(logits: tf.Tensor4D, targets: tf.Tensor4D, gamma = 2, weights?: ClassWeights): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(logits);
    const modulating = tf.pow(tf.sub(1, tf.exp(logP)), gamma);
    const perPixel = tf.sum(tf.mul(tf.mul(tf.mul(targets, modulating), logP), weightVector(weights, logits.shape[3])), -1);
    return tf.neg(tf.mean(perPixel)) as tf.Scalar;
  });
}

/**
 * Tversky loss (Salehi et al. 2017) over the foreground classes: per image and class c >= 1,
 * `1 - (TP + s) / (TP + a*FP + b*FN + s)` with soft counts from `p_c = softmax(z)_c` and `y_c`;
 * averaged over classes (weighted by `w_c`) and batch.
 */
export function multiClassTversky(logits: tf.Tensor4D, targets: tf.Tensor4D, fpWeight = 0.3, fnWeight = 0.7, smooth = 1, weights?: ClassWeights): tf.Scalar {
  return tf.tidy(() => {
    const p = foreground(tf.softmax(logits));
    const y = foreground(targets);
    const tp = tf.sum(tf.mul(p, y), SPATIAL);
    const fp = tf.sum(tf.mul(p, tf.sub(1, y)), SPATIAL);
    const fn = tf.sum(tf.mul(tf.sub(1, p), y), SPATIAL);
    const index = tf.div(tf.add(tp, smooth), tf.add(tf.add(tf.add(tp, tf.mul(fp, fpWeight)), tf.mul(fn, fnWeight)), smooth));
    return weightedClassMean(tf.sub(1, index) as tf.Tensor2D, weights, logits.shape[3]);
  });
}
