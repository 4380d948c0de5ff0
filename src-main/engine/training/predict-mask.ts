import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GrayImage } from '../imaging/gray-image';
import { resizeGray } from '../imaging/resize';

/**
 * Lesion mask (0/1) of one slice at the slice's own size: resized to the model's input `size`
 * (bilinear), predicted in inference mode, thresholded, and resized back (nearest, so it stays hard).
 */
export async function predictSliceMask(model: tfl.LayersModel, image: GrayImage, size: number, threshold: number): Promise<Uint8Array> {
  const resized = await resizeGray(image, size, size, 'bilinear');
  const probabilities = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(resized.data, (v) => v / 255), [1, size, size, 1]);
    return tf.sigmoid(model.apply(x, { training: false }) as tf.Tensor);
  });
  // Read outside tidy: tidy scans whatever it returns for tensors, element by element for typed arrays.
  const values = await probabilities.data();
  probabilities.dispose();
  const mask = new Uint8Array(size * size);
  for (let i = 0; i < mask.length; i++) mask[i] = values[i]! >= threshold ? 1 : 0;
  return (await resizeGray({ width: size, height: size, data: mask }, image.width, image.height, 'nearest')).data;
}
