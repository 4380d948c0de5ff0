import { z } from 'zod';
import { command } from './define';

export interface RunListItem {
  runId: string;
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  createdAt: string;
  model: string;
  loss: string;
  dataset: string;
  epoch: number;
  epochs: number;
  testDice: number | null;
}

export interface RunDetail extends RunListItem {
  config: Record<string, unknown>;
  metrics: { epoch: number; trainLoss: number; valLoss: number | null; valDice: number | null; valIou: number | null }[];
  test: Record<string, unknown> | null;
  backend: string;
}

export interface SliceScore {
  sliceId: string;
  dice: number | null;
  iou: number | null;
  truthPixels: number;
  predictedPixels: number;
  /** Three-class runs: Dice of ground-glass and of consolidation on this slice (null where the truth lacks the class). */
  classDice?: (number | null)[];
}

const runId = z.string().min(1).max(256);

export const runsCommands = {
  list: command<z.ZodObject<Record<string, never>>, RunListItem[]>(z.object({})),
  get: command<z.ZodObject<{ runId: typeof runId }>, RunDetail>(z.object({ runId })),
  /**
   * The run's prediction for one slice at the slice's size, base64 bytes: a 0/1 mask, or for
   * `classes: 'ggo-consolidation'` a class map (0 background, 1 ground-glass, 2 consolidation).
   */
  prediction: command<
    z.ZodObject<{ runId: typeof runId; datasetId: z.ZodString; sliceId: z.ZodString }>,
    { width: number; height: number; mask: string; classes?: 'lesion' | 'ggo-consolidation' }
  >(
    z.object({ runId, datasetId: z.string().min(1).max(4096), sliceId: z.string().min(1).max(1024) }),
  ),
  /** Per-slice Dice/IoU of the run on every slice of a dataset (for sorting by worst Dice). */
  sliceScores: command<z.ZodObject<{ runId: typeof runId; datasetId: z.ZodString }>, SliceScore[]>(z.object({ runId, datasetId: z.string().min(1).max(4096) })),
};
export const runsEvents = {};
