import type { BackendChoice } from '../backend/select-backend';
import { requireParameter } from '../errors';
import { LOSS_NAMES, type LossName, type LossOptions } from '../losses/segmentation-losses';
import { defaultOptimizer, modelSizeMultiple, resolveModelSpec, type ModelSpec } from '../models/registry';
import { UNET_LIMITS } from '../models/unet/unet';
import { OPTIMIZER_NAMES, type OptimizerSpec } from './adam';
import type { Recipe } from '../transforms/recipes';
import { CLASS_TASKS, EVAL_RESOLUTIONS, outputChannels, type ClassTask, type EvalResolution } from './class-task';

export const LR_SCHEDULES = ['constant', 'cosine', 'step', 'poly'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Everything that defines a training run; stored in the run's config.json. */
export interface TrainConfig {
  data: string;
  /** Binary lesion segmentation, or three classes (background, ground-glass, consolidation). */
  classes: ClassTask;
  /** Test metrics on each slice's own grid (`original`) or on the model's size x size grid. */
  evalResolution: EvalResolution;
  /** Split file from `covseg split`; when absent a grouped split is made with `split`. */
  splitFile?: string;
  split: { val: number; test: number; seed: number };
  model: ModelSpec;
  loss: string;
  lossOptions: LossOptions;
  epochs: number;
  batch: number;
  /** Slices are resized to size x size. */
  size: number;
  lr: number;
  lrSchedule: LrSchedule;
  /** Adam or AdamW; defaults by model (U-Net Adam, SegFormer AdamW with weight decay 0.01). Absent in older runs: Adam. */
  optimizer?: OptimizerSpec;
  seed: number;
  /** Stop after this many epochs without a better validation Dice; null trains every epoch. */
  patience: number | null;
  /** Probability threshold for the binary masks that metrics score. */
  threshold: number;
  backend: BackendChoice;
  /** Data-parallel replicas (threads); 0 picks: 2 on wasm/cpu when 2 cores exist, else 1. */
  workers: number;
  savePredictions: boolean;
  /** Augmentation recipe (stored whole, with its mode), or absent for none. */
  recipe?: Recipe;
  /**
   * Fine-tuning: the run folder whose best checkpoint the weights start from (same model, classes
   * and size); absent: seeded random weights. The parent is recorded as `parent` in config.json.
   */
  initFrom?: string;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'data'> = {
  classes: 'lesion',
  evalResolution: 'original',
  split: { val: 0.25, test: 0.15, seed: 1 },
  model: resolveModelSpec('unet'),
  loss: 'bce',
  lossOptions: {},
  epochs: 20,
  batch: 4,
  size: 128,
  lr: 1e-3,
  lrSchedule: 'constant',
  seed: 1,
  patience: null,
  threshold: 0.5,
  backend: 'auto',
  workers: 0,
  savePredictions: false,
};

/** Losses each task trains with; the default is the first (nnU-Net's CE+Dice for three classes). */
export const TASK_LOSSES: Record<ClassTask, readonly LossName[]> = {
  lesion: ['bce', 'dice', 'bce+dice', 'focal', 'tversky'],
  'ggo-consolidation': ['ce+dice', 'ce', 'dice', 'focal', 'tversky'],
};

/** Fills defaults and rejects impossible settings with the fix. */
export function resolveTrainConfig(partial: Partial<TrainConfig> & { data: string }): TrainConfig {
  const classes = partial.classes ?? TRAIN_DEFAULTS.classes;
  requireParameter((CLASS_TASKS as readonly string[]).includes(classes), `unknown --classes "${classes}"`, `use one of: ${CLASS_TASKS.join(', ')}`);
  const config: TrainConfig = { ...TRAIN_DEFAULTS, ...partial, loss: partial.loss ?? TASK_LOSSES[classes][0]!, split: { ...TRAIN_DEFAULTS.split, ...partial.split } };
  config.model = resolveModelSpec(config.model.name, { ...config.model.options, outputs: outputChannels(classes) });
  requireParameter(
    (EVAL_RESOLUTIONS as readonly string[]).includes(config.evalResolution),
    `unknown --eval-resolution "${config.evalResolution}"`,
    `use one of: ${EVAL_RESOLUTIONS.join(', ')}`,
  );
  requireParameter((LOSS_NAMES as readonly string[]).includes(config.loss), `unknown loss "${config.loss}"`, `use one of: ${LOSS_NAMES.join(', ')}`);
  requireParameter(
    (TASK_LOSSES[classes] as readonly string[]).includes(config.loss),
    `loss "${config.loss}" does not fit --classes ${classes}`,
    `use one of: ${TASK_LOSSES[classes].join(', ')}`,
  );
  const weights = config.lossOptions.classWeights;
  requireParameter(
    weights === undefined || (classes !== 'lesion' && weights.length === outputChannels(classes) && weights.every((w) => w >= 0) && weights.some((w) => w > 0)),
    `class weights need one non-negative weight per class (${outputChannels(classes)}) and a three-class task`,
    'give e.g. classWeights [1, 1, 2] (background, ground-glass, consolidation) with --classes ggo-consolidation',
  );
  config.optimizer = { ...defaultOptimizer(config.model.name), ...partial.optimizer };
  requireParameter((OPTIMIZER_NAMES as readonly string[]).includes(config.optimizer.name), `unknown optimizer "${config.optimizer.name}"`, `use one of: ${OPTIMIZER_NAMES.join(', ')}`);
  requireParameter(config.optimizer.weightDecay >= 0 && config.optimizer.weightDecay < 1, `weight decay must be in [0, 1), got ${config.optimizer.weightDecay}`);
  requireParameter(Number.isInteger(config.epochs) && config.epochs >= 1, `--epochs must be a positive integer, got ${config.epochs}`);
  requireParameter(Number.isInteger(config.batch) && config.batch >= 1 && config.batch <= 512, `--batch must be an integer from 1 to 512, got ${config.batch}`);
  // The model's own options first, so `--depth 9` is reported as a depth problem, not a size one.
  if (config.model.name === 'unet') checkUnetOptions(config.model.options);
  const multiple = modelSizeMultiple(config.model);
  requireParameter(
    Number.isInteger(config.size) && config.size >= multiple && config.size % multiple === 0,
    `--size must be a multiple of ${multiple} for ${config.model.name}${config.model.options.depth === undefined ? '' : ` (depth ${String(config.model.options.depth)})`}, got ${config.size}`,
    `try --size ${Math.max(multiple, Math.round(config.size / multiple) * multiple)}`,
  );
  requireParameter(config.lr > 0 && config.lr < 1, `--lr must be in (0, 1), got ${config.lr}`);
  requireParameter(Number.isInteger(config.seed), `--seed must be an integer, got ${config.seed}`);
  requireParameter(config.patience === null || (Number.isInteger(config.patience) && config.patience >= 1), `--patience must be a positive integer, got ${config.patience}`);
  requireParameter(Number.isInteger(config.workers) && config.workers >= 0 && config.workers <= 2, `--workers must be 0 (auto), 1 or 2, got ${config.workers}`);
  requireParameter(config.threshold > 0 && config.threshold < 1, `--threshold must be in (0, 1), got ${config.threshold}`);
  requireParameter((LR_SCHEDULES as readonly string[]).includes(config.lrSchedule), `unknown schedule "${config.lrSchedule}"`, `use one of: ${LR_SCHEDULES.join(', ')}`);
  return config;
}

/** U-Net options as the CLI names them, checked before a run folder exists (a failing build would leave one behind). */
function checkUnetOptions(options: Record<string, unknown>): void {
  const { depth, baseFilters } = UNET_LIMITS;
  const d = options.depth;
  requireParameter(
    typeof d === 'number' && Number.isInteger(d) && d >= depth.min && d <= depth.max,
    `--depth must be an integer from ${depth.min} to ${depth.max} (each level halves the slice and doubles the filters), got ${String(d)}`,
    'try --depth 4 (the default)',
  );
  const f = options.baseFilters;
  requireParameter(
    typeof f === 'number' && Number.isInteger(f) && f >= baseFilters.min && f <= baseFilters.max,
    `--base-filters must be an integer from ${baseFilters.min} to ${baseFilters.max}, got ${String(f)}`,
    'try --base-filters 16 (the default)',
  );
}

/**
 * Learning rate for a 0-based epoch: constant, cosine decay to 0, x0.1 after half and after three
 * quarters, or poly `lr * (1 - epoch / epochs)^1` (the SegFormer paper's schedule, per epoch here).
 */
export function learningRateAt(config: Pick<TrainConfig, 'lr' | 'lrSchedule' | 'epochs'>, epoch: number): number {
  switch (config.lrSchedule) {
    case 'cosine':
      return config.lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / config.epochs));
    case 'step':
      return config.lr * (epoch >= Math.floor(config.epochs * 0.75) ? 0.01 : epoch >= Math.floor(config.epochs / 2) ? 0.1 : 1);
    case 'poly':
      return config.lr * (1 - epoch / config.epochs);
    default:
      return config.lr;
  }
}
