import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SegmentationLoss } from '../losses/segmentation-losses';
import { inferenceCopy, type ModelSpec } from '../models/registry';
import { aggregateMetrics, sliceMetrics, type DatasetMetrics, type SliceMetrics } from '../metrics/segmentation-metrics';
import { batchArrays, type PreparedSlices } from './slice-cache';

export interface Evaluation {
  /** Mean loss over slices. */
  loss: number;
  metrics: DatasetMetrics;
  slices: SliceMetrics[];
}

/**
 * Lesion probabilities `[size * size]` per slice, predicted `batch` slices at a time in inference
 * mode (batch norm uses its moving statistics). Reads are asynchronous because the webgpu backend
 * has no synchronous read in Node; `onLogits` returns tensors to read with the probabilities.
 */
export async function predictProbabilities(
  model: tfl.LayersModel,
  slices: PreparedSlices,
  batch: number,
  onLogits?: (logits: tf.Tensor4D, indices: number[]) => tf.Tensor,
  onRead?: (values: Float32Array, indices: number[]) => void,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const plane = slices.size * slices.size;
  for (let start = 0; start < slices.ids.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, slices.ids.length - start) }, (_, k) => start + k);
    const [probabilities, extra] = tf.tidy(() => {
      const { x } = batchArrays(slices, indices);
      const logits = model.apply(tf.tensor4d(x, [indices.length, slices.size, slices.size, 1]), { training: false }) as tf.Tensor4D;
      return [tf.sigmoid(logits), onLogits?.(logits, indices)] as const;
    });
    const values = (await probabilities.data()) as Float32Array;
    if (extra) onRead?.((await extra.data()) as Float32Array, indices);
    tf.dispose([probabilities, ...(extra ? [extra] : [])]);
    for (let k = 0; k < indices.length; k++) out.push(values.slice(k * plane, (k + 1) * plane));
  }
  return out;
}

/** Loss and metrics of a model on prepared slices, thresholding probabilities at `threshold`. */
export async function evaluateModel(model: tfl.LayersModel, slices: PreparedSlices, loss: SegmentationLoss, batch: number, threshold = 0.5): Promise<Evaluation> {
  let lossSum = 0;
  const probabilities = await predictProbabilities(
    model,
    slices,
    batch,
    (logits, indices) => loss(logits, tf.tensor4d(batchArrays(slices, indices).y, logits.shape)),
    (value, indices) => (lossSum += value[0]! * indices.length),
  );
  const perSlice = probabilities.map((p, k) => {
    const predicted = new Uint8Array(p.length);
    for (let i = 0; i < p.length; i++) predicted[i] = p[i]! >= threshold ? 1 : 0;
    return sliceMetrics(slices.ids[k]!, predicted, slices.masks[k]!, slices.size, slices.size);
  });
  return { loss: slices.ids.length > 0 ? lossSum / slices.ids.length : NaN, metrics: aggregateMetrics(perSlice), slices: perSlice };
}

/**
 * {@link evaluateModel} on the inference form of a trained model (see `inferenceCopy`), released
 * once every read has finished.
 */
export async function evaluateInferenceCopy(trained: tfl.LayersModel, spec: ModelSpec, slices: PreparedSlices, loss: SegmentationLoss, batch: number, threshold = 0.5): Promise<Evaluation> {
  const { model, release } = inferenceCopy(trained, spec);
  try {
    return await evaluateModel(model, slices, loss, batch, threshold);
  } finally {
    release();
  }
}
