import { z } from 'zod';
import { command, event } from './define';
import { runIdSchema } from './runs';

/**
 * The loss a training gets when its request names none: the one the task trains with by default
 * (nnU-Net's CE+Dice for three classes). The engine's TASK_LOSSES lists it first.
 */
export const TASK_DEFAULT_LOSS = { lesion: 'bce', 'ggo-consolidation': 'ce+dice' } as const;

export const trainRequest = z.object({
  datasetId: z.string().min(1).max(4096),
  model: z.enum(['unet', 'segformer']).default('unet'),
  /** SegFormer's MiT variant (ignored by the U-Net). */
  variant: z.enum(['b0', 'b1']).optional(),
  /** Binary lesion vs background, or three classes (background, ground-glass, consolidation) from class maps. */
  classes: z.enum(['lesion', 'ggo-consolidation']).default('lesion'),
  /**
   * bce and bce+dice are for `lesion`; ce and ce+dice for `ggo-consolidation`; dice, focal, tversky for both.
   * Absent: the task's default (TASK_DEFAULT_LOSS), resolved by the training service because it depends on `classes`.
   */
  loss: z.enum(['bce', 'dice', 'bce+dice', 'focal', 'tversky', 'ce', 'ce+dice']).optional(),
  epochs: z.number().int().min(1).max(1000).default(10),
  size: z.number().int().min(16).max(1024).multipleOf(16).default(128),
  batch: z.number().int().min(1).max(256).default(4),
  lr: z.number().gt(0).lt(1).default(1e-3),
  seed: z.number().int().min(0).max(2 ** 31).default(1),
  depth: z.number().int().min(1).max(6).default(4),
  baseFilters: z.number().int().min(1).max(128).default(16),
  val: z.number().min(0).lt(1).default(0.25),
  test: z.number().min(0).lt(1).default(0.15),
  /** A preset augmentation recipe (online), or none. */
  recipe: z.enum(['origin', 'fliprot+elastic', 'fliprot+mixup', 'mixup+jpeg', 'fliprot+mixup+jpeg']).optional(),
  /**
   * Fine-tune: start from the best checkpoint of this finished run (`covseg train --init-from`).
   * Model, classes, size, depth and base filters must be the parent's; absent: from scratch.
   */
  initFromRun: runIdSchema.optional(),
});
export type TrainRequest = z.input<typeof trainRequest>;

/** Pushed while a run trains (batch events throttled to ~8 per second). */
export type TrainingProgress =
  | { runId: string; kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number; etaSeconds: number | null }
  | { runId: string; kind: 'epoch'; epoch: number; epochs: number; trainLoss: number; valLoss: number | null; valDice: number | null; valIou: number | null }
  /** A long phase outside the training steps: dataset scan, slice decoding, validation, test evaluation (slices done of total). */
  | { runId: string; kind: 'phase'; phase: 'scan' | 'decode' | 'validation' | 'test'; done: number; total: number }
  | { runId: string; kind: 'status'; state: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed'; message?: string; /** 1 = next to start (queued only). */ position?: number };

/**
 * What starting or resuming a run did: it trains now, or waits its turn (trainings beyond the
 * configured limit queue, first come first served; `position` 1 starts next).
 */
export interface TrainingLaunch {
  runId: string;
  state: 'running' | 'queued';
  position?: number;
}

export const resumeRequest = z.object({
  runId: z.string().min(1).max(256),
  /** Train up to this many epochs in all (a finished run can be extended); default: the run's own. */
  epochs: z.number().int().min(1).max(1000).optional(),
});

export const trainingCommands = {
  start: command<typeof trainRequest, TrainingLaunch>(trainRequest),
  /** Cancels a training (it stops after the current batch, resumable) or takes a queued one off the queue. */
  cancel: command<z.ZodObject<{ runId: z.ZodString }>, { cancelled: boolean }>(z.object({ runId: z.string().min(1).max(256) })),
  /** Continues an interrupted, cancelled or failed run from its last checkpoint (queued like a start). */
  resume: command<typeof resumeRequest, TrainingLaunch>(resumeRequest),
};
export const trainingEvents = {
  progress: event<TrainingProgress>(),
};
