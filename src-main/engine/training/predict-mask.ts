import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GrayImage } from '../imaging/gray-image';
import { decideClasses, resizeProbabilities } from '../imaging/resize-probabilities';
import { resizeGray } from '../imaging/resize';
import type { SegmentationEngine } from '../onnx/segmentation-engine';
import { probabilitiesOf } from './evaluate';

/** One slice's prediction at the slice's own size. */
export interface SlicePrediction {
  width: number;
  height: number;
  /** 1 (lesion probability) or one per class. */
  channels: number;
  /** `[height, width, channels]` probabilities, channels last. */
  probabilities: Float32Array;
  /** 0/1 lesion mask, or class map 0/1/2. */
  classMap: Uint8Array;
}

/**
 * Predicts one slice at its own size: the image is resized to the model's input `size` (bilinear),
 * predicted in inference mode, the probabilities resized back bilinearly to the slice's size, and
 * only then thresholded (one channel) or turned into classes (argmax) — the same policy as
 * evaluation at original resolution.
 */
export async function predictSlice(model: tfl.LayersModel, image: GrayImage, size: number, threshold: number): Promise<SlicePrediction> {
  const resized = await resizeGray(image, size, size, 'bilinear');
  const probabilities = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(resized.data, (v) => v / 255), [1, size, size, 1]);
    return probabilitiesOf(model.apply(x, { training: false }) as tf.Tensor4D);
  });
  // Read outside tidy: tidy scans whatever it returns for tensors, element by element for typed arrays.
  const values = (await probabilities.data()) as Float32Array;
  const channels = probabilities.shape[3];
  probabilities.dispose();
  return backToSlice(values, channels, size, image, threshold);
}

/** {@link predictSlice} through a {@link SegmentationEngine} (ONNX Runtime or tfjs). */
export async function predictSliceWithEngine(engine: SegmentationEngine, image: GrayImage, size: number, threshold: number): Promise<SlicePrediction> {
  const resized = await resizeGray(image, size, size, 'bilinear');
  const { probabilities, classes } = await engine.run(Float32Array.from(resized.data, (v) => v / 255), 1, size);
  return backToSlice(probabilities, classes, size, image, threshold);
}

/** Model-grid probabilities resized (bilinear) to the slice's own size, then thresholded or argmaxed. */
function backToSlice(values: Float32Array, channels: number, size: number, image: GrayImage, threshold: number): SlicePrediction {
  const onGrid = resizeProbabilities(values, size, size, channels, image.width, image.height);
  return { width: image.width, height: image.height, channels, probabilities: onGrid, classMap: decideClasses(onGrid, channels, threshold) };
}

/** Lesion mask (0/1) — or class map (0/1/2) for a three-class model — of one slice at the slice's own size. */
export async function predictSliceMask(model: tfl.LayersModel, image: GrayImage, size: number, threshold: number): Promise<Uint8Array> {
  return (await predictSlice(model, image, size, threshold)).classMap;
}
