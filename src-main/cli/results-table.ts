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
