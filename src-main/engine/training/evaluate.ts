import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../datasets/types';
import { decideClasses, resizeProbabilities } from '../imaging/resize-probabilities';
import type { SegmentationLoss } from '../losses/segmentation-losses';
import { aggregateMultiClass, multiClassSliceMetrics, type MultiClassMetrics, type MultiClassSliceMetrics } from '../metrics/class-metrics';
import { inferenceCopy, type ModelSpec } from '../models/registry';
import { aggregateMetrics, sliceMetrics, type DatasetMetrics, type SliceMetrics } from '../metrics/segmentation-metrics';
import { CLASS_NAMES, type EvalResolution } from './class-task';
import { batchArrays, missingClassMap, type PreparedSlices } from './slice-cache';

export interface Evaluation {
  /** Mean loss over slices (always on the model's grid, where the model trains). */
  loss: number;
  /** Lesion vs background; for three-class runs, "any lesion" from the class prediction. */
  metrics: DatasetMetrics;
  slices: SliceMetrics[];
  /** Where the masks were scored: each slice's own size, or the model's size x size. */
  resolution: EvalResolution;
  /** Three-class runs: per-class metrics, confusion, and per slice. */
  classes?: MultiClassMetrics;
  classSlices?: MultiClassSliceMetrics[];
}

/** The untouched masks (and class maps) of slices at their own size, for scoring at original resolution. */
export interface OriginalTargets {
  widths: number[];
  heights: number[];
  masks: Uint8Array[];
  labels?: Uint8Array[];
}

/** Loads slices at their own size (no resizing); `withLabels` also takes their class maps. */
export async function loadOriginalTargets(dataset: Dataset, ids: readonly string[], withLabels: boolean): Promise<OriginalTargets> {
  const byId = new Map(dataset.slices.map((s) => [s.id, s]));
  const targets: OriginalTargets = { widths: [], heights: [], masks: [], ...(withLabels ? { labels: [] } : {}) };
  for (const id of ids) {
    const ref = byId.get(id);
    if (!ref) throw new Error(`slice ${id} is not in the dataset ${dataset.root}`);
    const slice = await dataset.load(ref);
    if (withLabels && !slice.labels) throw missingClassMap(ref);
    targets.widths.push(slice.width);
    targets.heights.push(slice.height);
    targets.masks.push(slice.mask);
    if (withLabels) targets.labels!.push(slice.labels!);
  }
  return targets;
}

/** Sigmoid of one logit channel, softmax over several: `[batch, height, width, C]` probabilities. */
export function probabilitiesOf(logits: tf.Tensor4D): tf.Tensor4D {
  return logits.shape[3] === 1 ? tf.sigmoid(logits) : tf.softmax(logits);
}

/**
 * Probabilities `[size, size, C]` (channels last, flattened) per slice, predicted `batch` slices at
 * a time in inference mode (batch norm uses its moving statistics). C = 1 (lesion) or the classes.
 * Reads are asynchronous because the webgpu backend has no synchronous read in Node; `onLogits`
 * returns tensors to read with the probabilities.
 */
export async function predictProbabilities(
  model: tfl.LayersModel,
  slices: PreparedSlices,
  batch: number,
  onLogits?: (logits: tf.Tensor4D, indices: number[]) => tf.Tensor,
  onRead?: (values: Float32Array, indices: number[]) => void,
  /** Slices predicted so far, after each batch (validation and test report progress with it). */
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let start = 0; start < slices.ids.length; start += batch) {
    const indices = Array.from({ length: Math.min(batch, slices.ids.length - start) }, (_, k) => start + k);
    const [probabilities, extra] = tf.tidy(() => {
      const { x } = batchArrays(slices, indices);
      const logits = model.apply(tf.tensor4d(x, [indices.length, slices.size, slices.size, 1]), { training: false }) as tf.Tensor4D;
      return [probabilitiesOf(logits), onLogits?.(logits, indices)] as const;
    });
    const values = (await probabilities.data()) as Float32Array;
    if (extra) onRead?.((await extra.data()) as Float32Array, indices);
    tf.dispose([probabilities, ...(extra ? [extra] : [])]);
    const perSlice = values.length / indices.length;
    for (let k = 0; k < indices.length; k++) out.push(values.slice(k * perSlice, (k + 1) * perSlice));
    onProgress?.(out.length, slices.ids.length);
  }
  return out;
}

/**
 * Loss and metrics of a model on prepared slices. Probabilities are thresholded at `threshold`
 * (one channel) or take the most probable class (several). With `originals`, each slice's
 * probabilities are first resized (bilinear) to that slice's own size and scored against its
 * untouched mask or class map; without, masks are scored on the model's grid.
 */
export async function evaluateModel(
  model: tfl.LayersModel,
  slices: PreparedSlices,
  loss: SegmentationLoss,
  batch: number,
  threshold = 0.5,
  originals?: OriginalTargets,
  onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
  let lossSum = 0;
  const probabilities = await predictProbabilities(
    model,
    slices,
    batch,
    (logits, indices) => loss(logits, tf.tensor4d(batchArrays(slices, indices).y, logits.shape)),
    (value, indices) => (lossSum += value[0]! * indices.length),
    onProgress,
  );
  return scoreProbabilities(probabilities, slices, slices.ids.length > 0 ? lossSum / slices.ids.length : NaN, threshold, originals);
}

/**
 * Metrics of predicted probabilities (one `[size, size, C]` array per slice) against the slices'
 * masks or class maps: thresholded at `threshold` (one channel) or argmax (several), after resizing
 * to each slice's own size when `originals` are given. Shared by every inference engine.
 */
export function scoreProbabilities(probabilities: Float32Array[], slices: PreparedSlices, meanLoss: number, threshold = 0.5, originals?: OriginalTargets): Evaluation {
  const channels = probabilities.length > 0 ? probabilities[0]!.length / (slices.size * slices.size) : 1;
  const scored = probabilities.map((p, k) => {
    const width = originals ? originals.widths[k]! : slices.size;
    const height = originals ? originals.heights[k]! : slices.size;
    const onGrid = originals ? resizeProbabilities(p, slices.size, slices.size, channels, width, height) : p;
    const truth = originals ? (channels > 1 ? originals.labels![k]! : originals.masks[k]!) : channels > 1 ? slices.labels![k]! : slices.masks[k]!;
    return { predicted: decideClasses(onGrid, channels, threshold), truth, width, height };
  });
  const resolution: EvalResolution = originals ? 'original' : 'model';
  if (channels === 1) {
    const perSlice = scored.map((s, k) => sliceMetrics(slices.ids[k]!, s.predicted, s.truth, s.width, s.height));
    return { loss: meanLoss, metrics: aggregateMetrics(perSlice), slices: perSlice, resolution };
  }
  const names = CLASS_NAMES['ggo-consolidation'];
  const classSlices = scored.map((s, k) => multiClassSliceMetrics(slices.ids[k]!, s.predicted, s.truth, s.width, s.height, channels));
  const classes = aggregateMultiClass(classSlices, names.slice(0, channels));
  return { loss: meanLoss, metrics: classes.anyLesion, slices: classSlices.map((s) => s.anyLesion), resolution, classes, classSlices };
}

/** The figure a run selects its best checkpoint by: mean per-class Dice for classes, else Dice (per image, else pooled). */
export function selectionDice(evaluation: Evaluation): number {
  if (evaluation.classes) return evaluation.classes.meanDice ?? 0;
  return evaluation.metrics.dice ?? evaluation.metrics.pooled.dice ?? 0;
}

/**
 * {@link evaluateModel} on the inference form of a trained model (see `inferenceCopy`), released
 * once every read has finished.
 */
export async function evaluateInferenceCopy(
  trained: tfl.LayersModel,
  spec: ModelSpec,
  slices: PreparedSlices,
  loss: SegmentationLoss,
  batch: number,
  threshold = 0.5,
  originals?: OriginalTargets,
  onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
  const { model, release } = inferenceCopy(trained, spec);
  try {
    return await evaluateModel(model, slices, loss, batch, threshold, originals, onProgress);
  } finally {
    release();
  }
}
