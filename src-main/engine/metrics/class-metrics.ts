import { aggregateMetrics, sliceMetrics, type DatasetMetrics, type SliceMetrics } from './segmentation-metrics';

/** One foreground class of one slice: the binary metrics of "this class vs the rest", plus specificity. */
export interface ClassSliceMetrics extends SliceMetrics {
  /** `TN / (TN + FP)`; null when the slice has no pixel outside the class. */
  specificity: number | null;
}

/** Per-class metrics of one slice, from a predicted and a true class map. */
export interface MultiClassSliceMetrics {
  id: string;
  /** Index k holds class k + 1 (ground-glass, consolidation). */
  classes: ClassSliceMetrics[];
  /** Pixel counts, rows = true class, columns = predicted class (background first). */
  confusion: number[][];
  /** Any lesion (class > 0) against any lesion: the binary task's figures from the multi-class prediction. */
  anyLesion: SliceMetrics;
}

/** One foreground class over a dataset. */
export interface ClassDatasetMetrics extends DatasetMetrics {
  name: string;
  /** Slices whose truth holds this class: the ones its per-image means are taken over. */
  present: number;
  /** Mean specificity over every slice, and pooled. */
  specificity: number | null;
  pooledSpecificity: number | null;
}

/** Dataset-level per-class metrics of a multi-class run. */
export interface MultiClassMetrics {
  classNames: string[];
  /** Index k holds class k + 1. */
  classes: ClassDatasetMetrics[];
  /** Mean over the foreground classes of their per-image mean Dice / IoU (classes with a defined value). */
  meanDice: number | null;
  meanIou: number | null;
  /** Pooled pixel counts, rows = true class, columns = predicted class. */
  confusion: number[][];
  /** Share of true ground-glass pixels predicted as consolidation, and the reverse (pooled). */
  groundGlassAsConsolidation: number | null;
  consolidationAsGroundGlass: number | null;
  /** The binary metrics of any lesion vs background, derived from the class prediction. */
  anyLesion: DatasetMetrics;
}

function binaryOf(map: Uint8Array, c: number): Uint8Array {
  return Uint8Array.from(map, (v) => (v === c ? 1 : 0));
}

/**
 * Metrics of one slice from class maps `[height, width]` (0 background, 1..classes-1 foreground).
 * Each foreground class is scored as "this class vs everything else"; a pixel of ground-glass
 * predicted as consolidation is a false negative of ground-glass and a false positive of
 * consolidation, and shows in the confusion matrix.
 */
export function multiClassSliceMetrics(id: string, predicted: Uint8Array, truth: Uint8Array, width: number, height: number, classes: number): MultiClassSliceMetrics {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[Math.min(truth[i]!, classes - 1)]![Math.min(predicted[i]!, classes - 1)]!++;
  const perClass: ClassSliceMetrics[] = [];
  for (let c = 1; c < classes; c++) {
    const m = sliceMetrics(id, binaryOf(predicted, c), binaryOf(truth, c), width, height);
    perClass.push({ ...m, specificity: m.tn + m.fp > 0 ? m.tn / (m.tn + m.fp) : null });
  }
  const lesion = (map: Uint8Array) => Uint8Array.from(map, (v) => (v > 0 ? 1 : 0));
  return { id, classes: perClass, confusion, anyLesion: sliceMetrics(id, lesion(predicted), lesion(truth), width, height) };
}

function mean(values: (number | null)[]): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((s, v) => s + v, 0) / defined.length;
}

/**
 * Aggregates per-class slice metrics. Empty-class policy: a class's per-image means (Dice, IoU,
 * recall, HD95) are taken over the slices whose truth holds that class — a slice without
 * consolidation does not enter consolidation's mean; consolidation predicted there still counts,
 * as false positives in the pooled figures and in that class's `falsePositiveRateOnEmpty`.
 * Precision is averaged over slices where the class was predicted. "Any lesion" follows the binary
 * policy of {@link aggregateMetrics}.
 */
export function aggregateMultiClass(slices: MultiClassSliceMetrics[], classNames: readonly string[]): MultiClassMetrics {
  const classes = classNames.length;
  const perClass: ClassDatasetMetrics[] = [];
  for (let c = 1; c < classes; c++) {
    const all = slices.map((s) => s.classes[c - 1]!);
    const withClass = all.filter((m) => m.truthPixels > 0);
    const overall = aggregateMetrics(all);
    const tn = all.reduce((s, m) => s + m.tn, 0);
    const fp = all.reduce((s, m) => s + m.fp, 0);
    perClass.push({
      ...overall,
      name: classNames[c]!,
      present: withClass.length,
      dice: mean(withClass.map((m) => m.dice)),
      iou: mean(withClass.map((m) => m.iou)),
      recall: mean(withClass.map((m) => m.recall)),
      hd95: mean(withClass.map((m) => m.hd95)),
      specificity: mean(all.map((m) => m.specificity)),
      pooledSpecificity: tn + fp > 0 ? tn / (tn + fp) : null,
    });
  }
  const confusion = Array.from({ length: classes }, (_, r) => Array.from({ length: classes }, (_, k) => slices.reduce((s, m) => s + m.confusion[r]![k]!, 0)));
  const share = (from: number, to: number) => {
    const total = confusion[from]?.reduce((s, v) => s + v, 0) ?? 0;
    return total > 0 ? confusion[from]![to]! / total : null;
  };
  return {
    classNames: [...classNames],
    classes: perClass,
    meanDice: mean(perClass.map((m) => m.dice)),
    meanIou: mean(perClass.map((m) => m.iou)),
    confusion,
    groundGlassAsConsolidation: classes > 2 ? share(1, 2) : null,
    consolidationAsGroundGlass: classes > 2 ? share(2, 1) : null,
    anyLesion: aggregateMetrics(slices.map((s) => s.anyLesion)),
  };
}
