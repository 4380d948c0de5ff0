import * as tf from '@tensorflow/tfjs-core';
import type { GrayImage } from '../imaging/gray-image';
import { resizeGray } from '../imaging/resize';
import type { SegmentationLoss } from '../losses/segmentation-losses';
import { aggregateMetrics, sliceMetrics, type SliceMetrics } from '../metrics/segmentation-metrics';
import type { SegmentationEngine } from '../onnx/segmentation-engine';
import type { Evaluation } from './evaluate';
import { batchArrays, type PreparedSlices } from './slice-cache';

/**
 * {@link evaluateModel} through a {@link SegmentationEngine} (ONNX Runtime or tfjs): the engine's
 * logits give the loss, its probabilities thresholded at `threshold` the metrics.
 */
export async function evaluateWithEngine(engine: SegmentationEngine, slices: PreparedSlices, loss: SegmentationLoss, batch: number, threshold = 0.5): Promise<Evaluation> {
  const size = slices.size;
  const plane = size * size;
  let lossSum = 0;
  const perSlice: SliceMetrics[] = [];
  for (let start = 0; start < slices.ids.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, slices.ids.length - start) }, (_, k) => start + k);
    const { x, y } = batchArrays(slices, indices);
    const out = await engine.run(x, indices.length, size);
    const value = tf.tidy(() => loss(tf.tensor4d(out.logits, [indices.length, size, size, out.classes]), tf.tensor4d(y, [indices.length, size, size, 1])).dataSync()[0]!);
    lossSum += value * indices.length;
    indices.forEach((index, k) => {
      const predicted = new Uint8Array(plane);
      for (let i = 0; i < plane; i++) predicted[i] = out.probabilities[k * plane + i]! >= threshold ? 1 : 0;
      perSlice.push(sliceMetrics(slices.ids[index]!, predicted, slices.masks[index]!, size, size));
    });
  }
  return { loss: slices.ids.length > 0 ? lossSum / slices.ids.length : NaN, metrics: aggregateMetrics(perSlice), slices: perSlice };
}

/** {@link predictSliceMask} through a {@link SegmentationEngine}: resize, predict, threshold, resize back (nearest). */
export async function predictSliceMaskWithEngine(engine: SegmentationEngine, image: GrayImage, size: number, threshold: number): Promise<Uint8Array> {
  const resized = await resizeGray(image, size, size, 'bilinear');
  const { probabilities } = await engine.run(Float32Array.from(resized.data, (v) => v / 255), 1, size);
  const mask = new Uint8Array(size * size);
  for (let i = 0; i < mask.length; i++) mask[i] = probabilities[i]! >= threshold ? 1 : 0;
  return (await resizeGray({ width: size, height: size, data: mask }, image.width, image.height, 'nearest')).data;
}
