import { z } from 'zod';
import { command, event } from './define';

export const trainRequest = z.object({
  datasetId: z.string().min(1).max(4096),
  model: z.enum(['unet', 'segformer']).default('unet'),
  /** SegFormer's MiT variant (ignored by the U-Net). */
  variant: z.enum(['b0', 'b1']).optional(),
  loss: z.enum(['bce', 'dice', 'bce+dice', 'focal', 'tversky']).default('bce'),
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
});
export type TrainRequest = z.input<typeof trainRequest>;

/** Pushed while a run trains (batch events throttled to ~8 per second). */
export type TrainingProgress =
  | { runId: string; kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; loss: number; etaSeconds: number | null }
  | { runId: string; kind: 'epoch'; epoch: number; epochs: number; trainLoss: number; valLoss: number | null; valDice: number | null; valIou: number | null }
  | { runId: string; kind: 'status'; state: 'running' | 'completed' | 'cancelled' | 'failed'; message?: string };

export const trainingCommands = {
  start: command<typeof trainRequest, { runId: string }>(trainRequest),
  cancel: command<z.ZodObject<{ runId: z.ZodString }>, { cancelled: boolean }>(z.object({ runId: z.string().min(1).max(256) })),
};
export const trainingEvents = {
  progress: event<TrainingProgress>(),
};
