import { z } from 'zod';
import { command, event } from './define';

/** An experiment folder of the workspace (`WORKSPACE/experiments/<id>`). */
export const experimentIdSchema = z.string().regex(/^[A-Za-z0-9][\w.+-]*$/).max(200);

export type ExperimentCellState = 'pending' | 'running' | 'done' | 'failed';

export interface ExperimentListItem {
  experimentId: string;
  name: string;
  dataset: string;
  createdAt: string;
  updatedAt: string;
  total: number;
  done: number;
  running: number;
  failed: number;
  /** A `covseg experiment run` holds the folder now. */
  active: boolean;
}

/** Mean ± sample sd over seeds; values are the seeds' own numbers (for dots on the chart). */
export interface ExperimentMetric {
  mean: number | null;
  sd: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  values: number[];
}

/** One configuration (every axis but the seed) summarised over its seeds. */
export interface ExperimentConfiguration {
  /** model / loss (/ classes / other axes): the rows of one table share it. */
  group: string;
  recipe: string;
  done: number;
  total: number;
  testLoss: ExperimentMetric;
  dice: ExperimentMetric;
  iou: ExperimentMetric;
  miou: ExperimentMetric;
  hd95: ExperimentMetric;
  /** Three-class grids: each foreground class's Dice and IoU (empty for the binary task). */
  perClass: { name: string; dice: ExperimentMetric; iou: ExperimentMetric }[];
}

/** A recipe against origin in its group: Wilcoxon on paired per-slice Dice differences, Holm-adjusted. */
export interface ExperimentComparison {
  group: string;
  recipe: string;
  pairs: number;
  meanDifference: number | null;
  medianDifference: number | null;
  rankBiserial: number | null;
  p: number | null;
  pHolm: number | null;
  verdict: 'better' | 'worse' | 'no evidence of a difference' | 'not enough data';
}

/** One cell (one run folder) of the grid with its test results and learning curve. */
export interface ExperimentCellResult {
  cellId: string;
  recipe: string;
  model: string;
  loss: string;
  classes: string;
  seed: number;
  group: string;
  state: ExperimentCellState;
  attempts: number;
  error?: string;
  /** Slurm executor: the array task (`JOB_TASK`). */
  slurmTask?: string;
  epochs: number | null;
  seconds: number | null;
  testLoss: number | null;
  dice: number | null;
  iou: number | null;
  miou: number | null;
  hd95: number | null;
  perClass: { name: string; dice: number | null; iou: number | null }[];
  curve: { epoch: number; trainLoss: number; valLoss: number | null; valDice: number | null }[];
}

export interface ExperimentDetail extends ExperimentListItem {
  axes: { recipes: string[]; models: string[]; losses: string[]; seeds: number[]; classes: string[] };
  fixed: Record<string, number | string>;
  configurations: ExperimentConfiguration[];
  comparisons: ExperimentComparison[];
  cells: ExperimentCellResult[];
  /** Significance level of the verdicts. */
  alpha: number;
}

export const experimentStartRequest = z.object({
  datasetId: z.string().min(1).max(4096),
  /** Folder-safe name; the experiment folder is named after it (plus a time stamp). */
  name: z.string().regex(/^[\w.+-]+$/).max(80).default('grid'),
  recipes: z.array(z.enum(['origin', 'fliprot+elastic', 'fliprot+mixup', 'mixup+jpeg', 'fliprot+mixup+jpeg'])).min(1).max(8).default(['origin', 'fliprot+elastic']),
  models: z.array(z.enum(['unet', 'segformer'])).min(1).max(2).default(['unet']),
  losses: z.array(z.enum(['bce', 'dice', 'bce+dice', 'focal', 'tversky', 'ce', 'ce+dice'])).min(1).max(7).default(['bce']),
  seeds: z.array(z.number().int().min(0).max(2 ** 31)).min(1).max(20).default([1, 2]),
  classes: z.enum(['lesion', 'ggo-consolidation']).default('lesion'),
  epochs: z.number().int().min(1).max(1000).default(2),
  size: z.number().int().min(16).max(1024).multipleOf(16).default(32),
  depth: z.number().int().min(1).max(6).default(2),
  baseFilters: z.number().int().min(1).max(128).default(4),
  /** Cells at once (local executor). */
  parallel: z.number().int().min(1).max(64).default(1),
  executor: z.enum(['local', 'slurm']).default('local'),
});
export type ExperimentStartRequest = z.input<typeof experimentStartRequest>;

/** Pushed while an experiment runs (when its state file changes) and when its process ends. */
export interface ExperimentProgress {
  experimentId: string;
  state: 'running' | 'finished' | 'cancelled' | 'failed';
  total: number;
  done: number;
  running: number;
  failed: number;
  message?: string;
}

const byId = z.object({ experimentId: experimentIdSchema });

export const experimentsCommands = {
  list: command<z.ZodObject<Record<string, never>>, ExperimentListItem[]>(z.object({})),
  get: command<typeof byId, ExperimentDetail>(byId),
  /** Writes a grid file and starts `covseg experiment run` on it, detached (it survives the app). */
  start: command<typeof experimentStartRequest, { experimentId: string }>(experimentStartRequest),
  /** Stops a running experiment the way Ctrl-C does (cells checkpoint; Slurm jobs are cancelled). */
  cancel: command<typeof byId, { cancelled: boolean }>(byId),
};
export const experimentsEvents = {
  progress: event<ExperimentProgress>(),
};
