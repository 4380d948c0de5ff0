import { z } from 'zod';
import { command, event } from './define';

/**
 * Starts a GAN training (`covseg gan train`) on an opened dataset, on the split file `splitFile` (one
 * `listSplits` offers, or another split file of this dataset the app may read); without one a grouped
 * split (val/test shares below) is made for it in WORKSPACE/splits/.
 */
export const ganTrainRequest = z.object({
  datasetId: z.string().min(1).max(4096),
  splitFile: z.string().min(1).max(4096).optional(),
  kind: z.enum(['pix2pix', 'dagan']).default('pix2pix'),
  preset: z.enum(['seed', 'cpu']).default('cpu'),
  epochs: z.number().int().min(1).max(1000).optional(),
  size: z.number().int().min(16).max(512).optional(),
  batch: z.number().int().min(1).max(256).optional(),
  filters: z.number().int().min(1).max(128).optional(),
  seed: z.number().int().min(0).max(2 ** 31).default(1),
  val: z.number().min(0).lt(1).default(0.25),
  test: z.number().min(0).lt(1).default(0.15),
});
export type GanTrainRequest = z.input<typeof ganTrainRequest>;

/** Pushed while a GAN trains: batch losses (throttled), each epoch with its sample grid, and state changes. */
export type GanProgress =
  | { ganId: string; kind: 'batch'; epoch: number; epochs: number; batch: number; batches: number; gLoss: number; dLoss: number }
  | { ganId: string; kind: 'epoch'; epoch: number; epochs: number; gLoss: number; dLoss: number; l1: number; /** The epoch's sample grid as a PNG data URL (mask, real, generated per row). */ sampleGrid: string | null }
  | { ganId: string; kind: 'status'; state: 'running' | 'completed' | 'cancelled' | 'failed'; message?: string };

export interface GanListItem {
  ganId: string;
  kind: 'pix2pix' | 'dagan';
  generation: number;
  state: 'running' | 'completed' | 'cancelled' | 'failed' | 'unknown';
  epoch: number;
  epochs: number;
  createdAt: string;
  dataset: string;
  /** Per-epoch losses so far (metrics.jsonl). */
  losses: { epoch: number; gLoss: number; dLoss: number }[];
  /** The split file the GAN trained on and the SHA-256 of its bytes (what the leakage guard compares). */
  split?: { file: string; sha256: string };
  /** While it trains: batch losses so far (x = epoch - 1 + batch fraction), so a window opened mid-way (or after a server restart) draws the whole curve. */
  batchLosses?: { x: number; gLoss: number; dLoss: number }[];
}

/** A split file a GAN of the opened dataset can train on: made from the same data (content hash). */
export interface GanSplitOption {
  /** Absolute path; pass back as `splitFile`. */
  file: string;
  name: string;
  seed: number;
  slices: { train: number; val: number; test: number };
  sha256: string;
  modifiedAt: string;
}

export const ganCommands = {
  startTraining: command<typeof ganTrainRequest, { ganId: string }>(ganTrainRequest),
  /** Stops a GAN training after its current batch (resumable with `covseg gan train --resume`). */
  cancelTraining: command<z.ZodObject<{ ganId: z.ZodString }>, { cancelled: boolean }>(z.object({ ganId: z.string().min(1).max(256) })),
  listGans: command<z.ZodObject<Record<string, never>>, GanListItem[]>(z.object({})),
  /** Split files in WORKSPACE/splits/ made from the opened dataset (same content hash), newest first. */
  listSplits: command<z.ZodObject<{ datasetId: z.ZodString }>, GanSplitOption[]>(z.object({ datasetId: z.string().min(1).max(4096) })),
  /** The latest sample grid of a GAN as a PNG data URL, or null before its first epoch. */
  sampleGrid: command<z.ZodObject<{ ganId: z.ZodString }>, string | null>(z.object({ ganId: z.string().min(1).max(256) })),
};
export const ganEvents = {
  progress: event<GanProgress>(),
};
