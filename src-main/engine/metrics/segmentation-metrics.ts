import { squaredDistanceTransform } from './distance-transform';

/** Pixel counts of a binary prediction against a binary truth. */
export interface ConfusionCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * Metrics of one slice. `null` means "not defined for this slice" and leaves it out of per-image
 * means (see {@link aggregateMetrics} for the empty-mask policy).
 */
export interface SliceMetrics extends ConfusionCounts {
  id: string;
  truthPixels: number;
  predictedPixels: number;
  dice: number | null;
  iou: number | null;
  precision: number | null;
  recall: number | null;
  /** 95th-percentile symmetric Hausdorff distance in pixels; only when both masks are non-empty. */
  hd95: number | null;
}

export function confusion(predicted: Uint8Array, truth: Uint8Array): ConfusionCounts {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i]! > 0;
    const t = truth[i]! > 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return { tp, fp, fn, tn: truth.length - tp - fp - fn };
}

function percentile(sorted: Float64Array, q: number): number {
  // Linear interpolation between closest ranks, as numpy's default.
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

function boundary(mask: Uint8Array, width: number, height: number): Uint8Array {
  const edge = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      const inside = x > 0 && x < width - 1 && y > 0 && y < height - 1 && mask[i - 1] && mask[i + 1] && mask[i - width] && mask[i + width];
      if (!inside) edge[i] = 1;
    }
  }
  return edge;
}

function directedDistances(from: Uint8Array, toDistance: Float64Array): Float64Array {
  const values: number[] = [];
  for (let i = 0; i < from.length; i++) if (from[i]) values.push(Math.sqrt(toDistance[i]!));
  return Float64Array.from(values).sort();
}

/**
 * HD95 between two non-empty masks: the larger of the two directed 95th percentiles of distances
 * from one mask's boundary pixels to the other's boundary (as MONAI and medpy compute it).
 */
export function hausdorff95(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const edgeA = boundary(a, width, height);
  const edgeB = boundary(b, width, height);
  const toA = squaredDistanceTransform(width, height, (i) => edgeA[i] === 1);
  const toB = squaredDistanceTransform(width, height, (i) => edgeB[i] === 1);
  return Math.max(percentile(directedDistances(edgeA, toB), 0.95), percentile(directedDistances(edgeB, toA), 0.95));
}

/** Metrics of one slice from binary (0/1) predicted and true masks `[height, width]`. */
export function sliceMetrics(id: string, predicted: Uint8Array, truth: Uint8Array, width: number, height: number): SliceMetrics {
  const c = confusion(predicted, truth);
  const truthPixels = c.tp + c.fn;
  const predictedPixels = c.tp + c.fp;
  const both = truthPixels > 0 && predictedPixels > 0;
  const none = truthPixels === 0 && predictedPixels === 0;
  return {
    id,
    ...c,
    truthPixels,
    predictedPixels,
    dice: none ? null : (2 * c.tp) / (2 * c.tp + c.fp + c.fn),
    iou: none ? null : c.tp / (c.tp + c.fp + c.fn),
    precision: predictedPixels > 0 ? c.tp / predictedPixels : null,
    recall: truthPixels > 0 ? c.tp / truthPixels : null,
    hd95: both ? hausdorff95(predicted, truth, width, height) : null,
  };
}

/** Dataset-level metrics: per-image means, pooled counts, mIoU and the empty-slice figures. */
export interface DatasetMetrics {
  slices: number;
  /** Slices where truth and prediction are both empty: excluded from per-image means, counted here. */
  bothEmpty: number;
  /** Slices whose truth is empty. */
  emptyTruth: number;
  /** Share of empty-truth slices where the model predicted any lesion (null without empty slices). */
  falsePositiveRateOnEmpty: number | null;
  /** Means over the slices where each metric is defined. Dice is F1. */
  dice: number | null;
  iou: number | null;
  precision: number | null;
  recall: number | null;
  hd95: number | null;
  /** Pixel counts summed over all slices, then the same formulas. */
  pooled: { dice: number | null; iou: number | null; precision: number | null; recall: number | null };
  /** Mean of background IoU and lesion IoU, both pooled. */
  miou: number | null;
}

function mean(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((s, v) => s + v, 0) / defined.length;
}

/**
 * Aggregates slice metrics. Empty-mask policy: a slice with empty truth and empty prediction is a
 * correct negative — counted in `bothEmpty`, left out of per-image means (Dice is undefined there);
 * empty truth with predicted lesion scores Dice 0 and IoU 0 and raises `falsePositiveRateOnEmpty`;
 * lesion missed entirely scores Dice 0. Pooled metrics sum pixel counts over every slice.
 */
export function aggregateMetrics(slices: SliceMetrics[]): DatasetMetrics {
  const total = slices.reduce((s, m) => ({ tp: s.tp + m.tp, fp: s.fp + m.fp, fn: s.fn + m.fn, tn: s.tn + m.tn }), { tp: 0, fp: 0, fn: 0, tn: 0 });
  const emptyTruth = slices.filter((m) => m.truthPixels === 0);
  const lesionUnion = total.tp + total.fp + total.fn;
  const backgroundUnion = total.tn + total.fp + total.fn;
  const lesionIou = lesionUnion > 0 ? total.tp / lesionUnion : null;
  const backgroundIou = backgroundUnion > 0 ? total.tn / backgroundUnion : null;
  return {
    slices: slices.length,
    bothEmpty: slices.filter((m) => m.truthPixels === 0 && m.predictedPixels === 0).length,
    emptyTruth: emptyTruth.length,
    falsePositiveRateOnEmpty: emptyTruth.length > 0 ? emptyTruth.filter((m) => m.predictedPixels > 0).length / emptyTruth.length : null,
    dice: mean(slices.map((m) => m.dice)),
    iou: mean(slices.map((m) => m.iou)),
    precision: mean(slices.map((m) => m.precision)),
    recall: mean(slices.map((m) => m.recall)),
    hd95: mean(slices.map((m) => m.hd95)),
    pooled: {
      dice: lesionUnion > 0 ? (2 * total.tp) / (2 * total.tp + total.fp + total.fn) : null,
      iou: lesionIou,
      precision: total.tp + total.fp > 0 ? total.tp / (total.tp + total.fp) : null,
      recall: total.tp + total.fn > 0 ? total.tp / (total.tp + total.fn) : null,
    },
    miou: lesionIou !== null && backgroundIou !== null ? (lesionIou + backgroundIou) / 2 : (lesionIou ?? backgroundIou),
  };
}
