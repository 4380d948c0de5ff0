import * as tf from '@tensorflow/tfjs-core';
import type { SegmentationLoss } from '../losses/segmentation-losses';
import type { SegmentationEngine } from '../onnx/segmentation-engine';
import { scoreProbabilities, type Evaluation, type OriginalTargets } from './evaluate';
import { batchArrays, type PreparedSlices } from './slice-cache';

/**
 * {@link evaluateModel} through a {@link SegmentationEngine} (ONNX Runtime or tfjs): the engine's
 * logits give the loss, its probabilities are scored exactly as tfjs's are (same thresholding,
 * argmax and resolution policy).
 */
export async function evaluateWithEngine(
  engine: SegmentationEngine,
  slices: PreparedSlices,
  loss: SegmentationLoss,
  batch: number,
  threshold = 0.5,
  originals?: OriginalTargets,
): Promise<Evaluation> {
  const size = slices.size;
  let lossSum = 0;
  const probabilities: Float32Array[] = [];
  for (let start = 0; start < slices.ids.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, slices.ids.length - start) }, (_, k) => start + k);
    const { x, y } = batchArrays(slices, indices);
    const out = await engine.run(x, indices.length, size);
    const shape: [number, number, number, number] = [indices.length, size, size, out.classes];
    lossSum += tf.tidy(() => loss(tf.tensor4d(out.logits, shape), tf.tensor4d(y, shape)).dataSync()[0]!) * indices.length;
    const perSlice = size * size * out.classes;
    for (let k = 0; k < indices.length; k++) probabilities.push(out.probabilities.slice(k * perSlice, (k + 1) * perSlice));
  }
  return scoreProbabilities(probabilities, slices, slices.ids.length > 0 ? lossSum / slices.ids.length : NaN, threshold, originals);
}
