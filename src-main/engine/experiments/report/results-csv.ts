import { CLASS_NAMES } from '../../training/class-task';
import type { CellResult } from '../statistics/collect-results';
import { groupOf } from '../statistics/compare-recipes';

/** The foreground classes of the three-class task, each with a Dice and an IoU column (empty for binary cells). */
const CLASS_COLUMNS = CLASS_NAMES['ggo-consolidation'].slice(1);
const columnOf = (name: string, metric: string) => `${name.replace(/\W/g, '_')}_${metric}`;

export const RESULTS_CSV_COLUMNS = ['cell', 'recipe', 'model', 'loss', 'classes', 'seed', 'group', 'state', 'epochs', 'seconds', 'test_loss', 'dice', 'iou', 'miou', 'hd95', ...CLASS_COLUMNS.flatMap((c) => [columnOf(c, 'dice'), columnOf(c, 'iou')]), 'test_slices', 'error'] as const;

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Tidy results: one row per cell, one column per variable, full precision (rounding is for the tables). */
export function resultsCsv(results: readonly CellResult[]): string {
  const rows = results.map((r) =>
    [r.cell.id, r.cell.recipe, r.cell.model, r.cell.loss, r.cell.classes, r.cell.seed, groupOf(r), r.state, r.epochs, r.seconds, r.testLoss, r.dice, r.iou, r.miou, r.hd95, ...CLASS_COLUMNS.flatMap((name) => { const c = r.perClass.find((k) => k.name === name); return [c?.dice ?? null, c?.iou ?? null]; }), r.slices.length, r.error ?? null].map(csvField).join(','),
  );
  return `${[RESULTS_CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
