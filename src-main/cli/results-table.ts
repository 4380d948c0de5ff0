import type { ClassDatasetMetrics, MultiClassMetrics } from '../engine/metrics/class-metrics';
import type { DatasetMetrics } from '../engine/metrics/segmentation-metrics';
import { formatTable } from './output';

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** Test metrics as a table: per-image means, pooled values and the empty-slice figures. */
export function formatMetricsTable(metrics: DatasetMetrics, loss?: number): string {
  const rows: (string | number)[][] = [
    ['Dice (F1), per image', fmt(metrics.dice)],
    ['IoU, per image', fmt(metrics.iou)],
    ['Dice (F1), pooled', fmt(metrics.pooled.dice)],
    ['IoU, pooled', fmt(metrics.pooled.iou)],
    ['mIoU (background, lesion)', fmt(metrics.miou)],
    ['precision, per image', fmt(metrics.precision)],
    ['recall, per image', fmt(metrics.recall)],
    ['HD95 (px)', fmt(metrics.hd95, 2)],
  ];
  if (loss !== undefined) rows.unshift(['loss', fmt(loss)]);
  rows.push(['slices', String(metrics.slices)], ['empty truth / both empty', `${metrics.emptyTruth} / ${metrics.bothEmpty}`]);
  if (metrics.falsePositiveRateOnEmpty !== null) rows.push(['false-positive rate on empty slices', fmt(metrics.falsePositiveRateOnEmpty, 3)]);
  return formatTable(['metric', 'value'], rows);
}

/** Per-class metrics of a three-class run as a table (one column per class), then the confusion between classes. */
export function formatClassTable(metrics: MultiClassMetrics): string {
  const names = metrics.classes.map((c) => c.name);
  const row = (label: string, pick: (c: ClassDatasetMetrics) => number | null, digits = 4): string[] => [label, ...metrics.classes.map((c) => fmt(pick(c), digits))];
  const rows: string[][] = [
    row('Dice, per image (slices with the class)', (c) => c.dice),
    row('IoU, per image', (c) => c.iou),
    row('Dice, pooled', (c) => c.pooled.dice),
    row('sensitivity (recall), per image', (c) => c.recall),
    row('specificity, pooled', (c) => c.pooledSpecificity),
    row('precision, per image', (c) => c.precision),
    row('HD95 (px)', (c) => c.hd95, 2),
    ['slices with the class', ...metrics.classes.map((c) => String(c.present))],
    row('predicted on slices without it', (c) => c.falsePositiveRateOnEmpty, 3),
  ];
  const confusion = formatTable(
    ['true \\ predicted', ...metrics.classNames],
    metrics.confusion.map((r, k) => [metrics.classNames[k]!, ...r.map(String)]),
  );
  return [
    formatTable(['metric', ...names], rows),
    `mean Dice over classes ${fmt(metrics.meanDice)}, mean IoU ${fmt(metrics.meanIou)}; any-lesion Dice ${fmt(metrics.anyLesion.dice)} (pooled ${fmt(metrics.anyLesion.pooled.dice)})`,
    `ground-glass predicted as consolidation ${fmt(metrics.groundGlassAsConsolidation, 3)}, consolidation as ground-glass ${fmt(metrics.consolidationAsGroundGlass, 3)} (share of true pixels)`,
    'pixel counts:',
    confusion,
  ].join('\n');
}
