import { z } from 'zod';
import { command } from './define';

export interface RunListItem {
  runId: string;
  state: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  /** Place in the training queue (1 = next), for queued runs. */
  queuePosition?: number;
  /** Why a run stopped, e.g. "interrupted: the training process stopped without finishing". */
  message?: string;
  createdAt: string;
  model: string;
  loss: string;
  dataset: string;
  epoch: number;
  epochs: number;
  testDice: number | null;
  /** Augmentation recipe, or absent for none. */
  recipe?: string;
  /** SegFormer's MiT variant (b0, b1); absent for the U-Net. */
  variant?: string;
  /** `lesion` (binary) or `ggo-consolidation` (three classes). */
  classes?: string;
  /** The run folder: checkpoints, metrics, predictions (absent before it exists). */
  dir?: string;
  /**
   * The run this one was fine-tuned from (`covseg train --init-from`, Annotate's retrain), as its
   * config.json records it: the parent's id (its folder's name), folder and the epoch of the best
   * checkpoint taken. The parent may live elsewhere or be deleted: compare `dir` with the listed runs.
   */
  parent?: { runId: string; dir: string; epoch: number };
}

/** One foreground class's test figures of a three-class run (per-image means over slices holding the class). */
export interface RunClassMetrics {
  name: string;
  dice: number | null;
  iou: number | null;
  /** Test slices whose truth holds the class. */
  present: number;
}

export interface RunDetail extends RunListItem {
  config: Record<string, unknown>;
  metrics: { epoch: number; trainLoss: number; valLoss: number | null; valDice: number | null; valIou: number | null }[];
  test: Record<string, unknown> | null;
  /** Three-class runs: ground-glass and consolidation test figures. */
  classMetrics?: RunClassMetrics[];
  /** Where the run's files are: its folder, and its saved test predictions when it kept them. */
  files: { dir: string; predictions?: string };
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
  /** Where the run used this slice (from its config.json); absent when the run never saw it. */
  split?: 'train' | 'val' | 'test';
}

const RUN_ID = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * True for a plain folder name inside the runs folder: letters, digits, `.`, `_` and `-`, never `.`
 * or `..` (which would name the runs folder or the workspace itself). Names such as `..v2` are fine.
 */
export function isRunId(value: string): boolean {
  return RUN_ID.test(value) && value !== '.' && value !== '..';
}

/** A run id as requests carry it; see {@link isRunId}. */
export const runIdSchema = z.string().refine(isRunId, 'a run id is one folder name: letters, digits, ".", "_" or "-", and not "." or ".."');
const runId = runIdSchema;

export const runsCommands = {
  list: command<z.ZodObject<Record<string, never>>, RunListItem[]>(z.object({})),
  get: command<z.ZodObject<{ runId: typeof runId }>, RunDetail>(z.object({ runId })),
  /**
   * The run's prediction for one slice at the slice's size, base64 bytes: a 0/1 mask, or for
   * `classes: 'ggo-consolidation'` a class map (0 background, 1 ground-glass, 2 consolidation).
   */
  prediction: command<
    z.ZodObject<{ runId: typeof runId; datasetId: z.ZodString; sliceId: z.ZodString }>,
    /**
     * `engine`: what predicted, e.g. `onnxruntime-node 1.30.0 (cpu)` or `tfjs (wasm)`. `score`: this
     * slice's Dice/IoU against its truth and its split in the run, as `sliceScores` reports them.
     */
    { width: number; height: number; mask: string; classes?: 'lesion' | 'ggo-consolidation'; engine?: string; score: SliceScore }
  >(
    z.object({ runId, datasetId: z.string().min(1).max(4096), sliceId: z.string().min(1).max(1024) }),
  ),
  /** Per-slice Dice/IoU of the run on every slice of a dataset (for sorting by worst Dice). */
  sliceScores: command<z.ZodObject<{ runId: typeof runId; datasetId: z.ZodString }>, SliceScore[]>(z.object({ runId, datasetId: z.string().min(1).max(4096) })),
  /** Deletes a run folder inside the runs folder; refused while the run trains or waits in the queue. */
  delete: command<z.ZodObject<{ runId: typeof runId }>, { deleted: boolean; dir: string }>(z.object({ runId })),
  /** Opens the run folder in the system's file manager (desktop); a browser gets the path to copy (`opened: false`). */
  openFolder: command<z.ZodObject<{ runId: typeof runId }>, { dir: string; opened: boolean }>(z.object({ runId })),
};
export const runsEvents = {};
