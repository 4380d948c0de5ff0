import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of FusedBatchNorm, equal to tfjs-core's but broadcasting `[C]` statistics instead of
 * tiling them to the input's size (the Tile took a fifth of a U-Net step on wasm), and sharing the
 * reductions `sum(dy)` and `sum(dy * (x - mean))` between the parameter gradients.
 */
export const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const [x, mean, variance, scale] = saved as tf.Tensor[];
    const dyT = dy as tf.Tensor;
    const scaleValue = scale ?? tf.scalar(1);
    const axes = tf.backend_util.getReductionAxes(mean!.shape, x!.shape);
    const reduce = (t: tf.Tensor) => (axes.length > 0 ? tf.sum(t, axes) : t);
    const rsqrt = tf.rsqrt(tf.add(variance!, tf.scalar(varianceEpsilon)));
    // Computed here, not inside the closures: the tape runs each closure in its own tidy scope.
    const dyCenteredSum = reduce(tf.mul(dyT, tf.sub(x!, mean!)));
    const dySum = reduce(dyT);
    return {
      x: () => tf.mul(dyT, tf.mul(rsqrt, scaleValue)),
      mean: () => tf.reshape(tf.mul(tf.neg(tf.mul(rsqrt, scaleValue)), dySum), mean!.shape),
      variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(tf.pow(rsqrt, tf.scalar(3)), tf.scalar(-0.5)), scaleValue), dyCenteredSum), mean!.shape),
      scale: () => tf.reshape(tf.mul(rsqrt, dyCenteredSum), mean!.shape),
      offset: () => tf.reshape(dySum, mean!.shape),
    };
  },
};

let registered = false;

/** Replaces tfjs-core's batch-norm gradient on every backend. Idempotent. */
export function registerBatchNormGradient(): void {
  if (registered) return;
  // registerGradient warns before overriding; the override is intended.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(batchNormGradient);
  } finally {
    console.warn = warn;
  }
  registered = true;
}
