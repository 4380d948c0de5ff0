import { z } from 'zod';
import { command } from './define';
import type { GanKind, GeneratedPair } from './gan-pairs';
import type { SlicePixels } from './slices';

/** Per-GAN figures of `covseg gan check` (one GAN = one `generator.ganDir`), stored in PAIRSDIR/quality.json. */
export interface GanQualitySummary {
  ganDir: string;
  kind: GanKind;
  generation: number;
  pairs: number;
  /** Pairs flagged as near-copies of a training image. */
  nearCopies: number;
  meanSsimToNearest: number | null;
  meanSegmentabilityDice: number | null;
  meanLesionContrast: number | null;
  /** Share of pixels per intensity bin (edges in `PairsQualityReport.histogramEdgesHu`). */
  histogram: number[];
  /** Earth mover's distance of this GAN's histogram to the real one, HU. */
  histogramDistanceHu: number;
  /** Train-synthetic-test-real: Dice on the real test split of a U-Net trained only on this GAN's pairs. */
  tstr?: { dice: number | null; trainPairs: number; testSlices: number; epochs: number; size: number };
}

/** PAIRSDIR/quality.json, written by `covseg gan check`. */
export interface PairsQualityReport {
  version: 1;
  checkedAt: string;
  /** The real dataset the pairs were compared with, and the split file whose training part was used. */
  data: string;
  split?: string;
  /** Real slices searched for nearest neighbours (the training split, or all slices without a split). */
  trainSlices: number;
  model?: string;
  thresholds: { nearCopySsim: number };
  /** Grey levels are read as HU through this window (see README "Curating generated pairs"). */
  huWindow: { level: number; width: number };
  histogramEdgesHu: number[];
  real: { histogram: number[]; meanLesionContrast: number | null };
  gans: GanQualitySummary[];
}

/** A generated-pairs folder as the gallery shows it. */
export interface OpenedPairs {
  /** Pass back as `pairsId` (the folder's resolved path). */
  pairsId: string;
  path: string;
  pairs: GeneratedPair[];
  report: PairsQualityReport | null;
}

const pairsId = z.string().min(1).max(4096);
const pairId = z.string().min(1).max(1024);
/** Square size to resize to (grid cells); absent: the image's own size. */
const size = z.number().int().min(16).max(1024).optional();
const decisionAction = z.enum(['accept', 'reject', 'undo']);
export type DecisionAction = z.infer<typeof decisionAction>;

export const galleryCommands = {
  open: command<z.ZodObject<{ path: z.ZodString }>, OpenedPairs>(z.object({ path: z.string().min(1).max(4096) })),
  /** One pair's pixels (image, mask 0/1, class map when the folder has labels/), base64 as `slices:get`. */
  pair: command<z.ZodObject<{ pairsId: typeof pairsId; pairId: typeof pairId; size: z.ZodOptional<z.ZodNumber> }>, SlicePixels>(z.object({ pairsId, pairId, size })),
  /** The real training image nearest to a pair (from its quality), from the dataset `covseg gan check` compared with. */
  nearest: command<z.ZodObject<{ pairsId: typeof pairsId; pairId: typeof pairId; size: z.ZodOptional<z.ZodNumber> }>, SlicePixels>(z.object({ pairsId, pairId, size })),
  /** Accept, reject or undo (back to pending) pairs; saved to pairs.jsonl before it answers. */
  decide: command<z.ZodObject<{ pairsId: typeof pairsId; ids: z.ZodArray<typeof pairId>; action: typeof decisionAction; by: z.ZodOptional<z.ZodString> }>, GeneratedPair[]>(
    z.object({ pairsId, ids: z.array(pairId).min(1).max(10_000), action: decisionAction, by: z.string().min(1).max(200).optional() }),
  ),
};
export const galleryEvents = {};
