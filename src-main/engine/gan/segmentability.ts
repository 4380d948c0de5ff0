import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { CovsegError } from '../errors';
import type { GrayImage } from '../imaging/gray-image';
import { confusion } from '../metrics/segmentation-metrics';
import { inferenceCopy } from '../models/registry';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { predictSlice } from '../training/predict-mask';

/** A segmentation model trained on real slices, asked whether generated images show their masks. */
export interface SegmentabilityJudge {
  /** Dice of the model's lesion prediction on `image` against `mask` (0/1); null when both are empty. */
  dice(image: GrayImage, mask: Uint8Array): Promise<number | null>;
  /** The run folder, for the summary. */
  runDir: string;
  dispose(): void;
}

/** Dice of two 0/1 masks; null when both are empty (nothing to agree on). */
export function maskDice(predicted: Uint8Array, truth: Uint8Array): number | null {
  const { tp, fp, fn } = confusion(predicted, truth);
  return tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn);
}

/**
 * Opens the best checkpoint of a `covseg train` run for judging. Three-class runs count any lesion
 * class as lesion, since generated masks are binary.
 */
export async function openSegmentabilityJudge(runDir: string, backend?: BackendChoice): Promise<SegmentabilityJudge> {
  const run = await readRun(runDir);
  const { size, threshold, model: spec } = run.record.config;
  await selectBackend(backend ?? run.record.config.backend);
  const { model: trained } = await loadCheckpoint(run.dir, 'best').catch((error: unknown) => {
    if (error instanceof CovsegError) throw new CovsegError(error.code, `--model ${runDir}: ${error.message}`, { ...(error.file ? { file: error.file } : {}), fix: 'give a finished `covseg train` run folder' });
    throw error;
  });
  const { model, release } = inferenceCopy(trained, spec);
  return {
    runDir: run.dir,
    async dice(image, mask) {
      const { classMap } = await predictSlice(model, image, size, threshold);
      const lesion = classMap.map((c) => (c > 0 ? 1 : 0));
      return maskDice(lesion, mask);
    },
    dispose() {
      release();
      trained.dispose();
    },
  };
}
