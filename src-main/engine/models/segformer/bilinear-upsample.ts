import * as tf from '@tensorflow/tfjs-core';

/**
 * Interpolation matrix `[inSize * factor, inSize]` of 1-D bilinear up-sampling with half-pixel
 * centres and edge clamping: PyTorch's `interpolate(mode='bilinear', align_corners=False)`.
 */
export function upsampleMatrix(inSize: number, factor: number): Float32Array {
  const outSize = inSize * factor;
  const matrix = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const source = Math.max(0, (o + 0.5) / factor - 0.5);
    const lower = Math.min(Math.floor(source), inSize - 1);
    const upper = Math.min(lower + 1, inSize - 1);
    const weight = source - lower;
    matrix[o * inSize + lower]! += 1 - weight;
    matrix[o * inSize + upper]! += weight;
  }
  return matrix;
}

/**
 * Bilinear up-sampling of `[batch, height, width, channels]` by an integer factor, half-pixel
 * centres (as SegFormer's decoder, which uses PyTorch's `align_corners=False`).
 *
 * Written as two matrix products (rows, then columns) rather than `tf.image.resizeBilinear`: tfjs's
 * ResizeBilinearGrad kernels ignore `halfPixelCenters`, so the stock op has a wrong gradient for
 * exactly this mode; the products' gradients are exact on every backend and run as plain 2-D matmuls.
 */
export function bilinearUpsample(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  if (factor === 1) return x.clone();
  return tf.tidy(() => {
    const [batch, height, width, channels] = x.shape;
    const rows = tf.tensor2d(upsampleMatrix(height, factor), [height * factor, height]);
    const columns = tf.tensor2d(upsampleMatrix(width, factor), [width * factor, width]);
    // [h, b*w*c] -> [H, b*w*c]
    const byRow = tf.matMul(rows, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [height, batch * width * channels]));
    // [H, b, w, c] -> [w, b*H*c] -> [W, b*H*c]
    const byColumn = tf.matMul(columns, tf.reshape(tf.transpose(tf.reshape(byRow, [height * factor, batch, width, channels]), [2, 1, 0, 3]), [width, batch * height * factor * channels]));
    return tf.transpose(tf.reshape(byColumn, [width * factor, batch, height * factor, channels]), [1, 2, 0, 3]);
  });
}
