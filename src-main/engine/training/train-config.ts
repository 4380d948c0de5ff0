import type { BackendChoice } from '../backend/select-backend';
import { requireParameter } from '../errors';
import { LOSS_NAMES, type LossOptions } from '../losses/segmentation-losses';
import { defaultOptimizer, modelSizeMultiple, resolveModelSpec, type ModelSpec } from '../models/registry';
import { OPTIMIZER_NAMES, type OptimizerSpec } from './adam';
import type { Recipe } from '../transforms/recipes';

export const LR_SCHEDULES = ['constant', 'cosine', 'step', 'poly'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Everything that defines a training run; stored in the run's config.json. */
export interface TrainConfig {
  data: string;
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
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'data'> = {
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

/** Fills defaults and rejects impossible settings with the fix. */
export function resolveTrainConfig(partial: Partial<TrainConfig> & { data: string }): TrainConfig {
  const config: TrainConfig = { ...TRAIN_DEFAULTS, ...partial, split: { ...TRAIN_DEFAULTS.split, ...partial.split } };
  config.model = resolveModelSpec(config.model.name, config.model.options);
  config.optimizer = { ...defaultOptimizer(config.model.name), ...partial.optimizer };
  requireParameter((OPTIMIZER_NAMES as readonly string[]).includes(config.optimizer.name), `unknown optimizer "${config.optimizer.name}"`, `use one of: ${OPTIMIZER_NAMES.join(', ')}`);
  requireParameter(config.optimizer.weightDecay >= 0 && config.optimizer.weightDecay < 1, `weight decay must be in [0, 1), got ${config.optimizer.weightDecay}`);
  requireParameter(Number.isInteger(config.epochs) && config.epochs >= 1, `--epochs must be a positive integer, got ${config.epochs}`);
  requireParameter(Number.isInteger(config.batch) && config.batch >= 1 && config.batch <= 512, `--batch must be an integer from 1 to 512, got ${config.batch}`);
  const multiple = modelSizeMultiple(config.model);
  requireParameter(
    Number.isInteger(config.size) && config.size >= multiple && config.size % multiple === 0,
    `--size must be a multiple of ${multiple} for ${config.model.name}${config.model.options.depth === undefined ? '' : ` (depth ${String(config.model.options.depth)})`}, got ${config.size}`,
    `try --size ${Math.max(multiple, Math.round(config.size / multiple) * multiple)}`,
  );
  requireParameter(config.lr > 0 && config.lr < 1, `--lr must be in (0, 1), got ${config.lr}`);
  requireParameter((LOSS_NAMES as readonly string[]).includes(config.loss), `unknown loss "${config.loss}"`, `use one of: ${LOSS_NAMES.join(', ')}`);
  requireParameter(Number.isInteger(config.seed), `--seed must be an integer, got ${config.seed}`);
  requireParameter(config.patience === null || (Number.isInteger(config.patience) && config.patience >= 1), `--patience must be a positive integer, got ${config.patience}`);
  requireParameter(Number.isInteger(config.workers) && config.workers >= 0 && config.workers <= 2, `--workers must be 0 (auto), 1 or 2, got ${config.workers}`);
  requireParameter(config.threshold > 0 && config.threshold < 1, `--threshold must be in (0, 1), got ${config.threshold}`);
  requireParameter((LR_SCHEDULES as readonly string[]).includes(config.lrSchedule), `unknown schedule "${config.lrSchedule}"`, `use one of: ${LR_SCHEDULES.join(', ')}`);
  return config;
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
