import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendChoice } from '../backend/select-backend';
import type { Dataset } from '../datasets/types';
import { writeJsonAtomic } from '../files/atomic-write';
import { createLoss } from '../losses/segmentation-losses';
import { createRandom } from '../random/seeded-random';
import { loadCheckpoint } from '../runs/checkpoints';
import { evaluateInferenceCopy, loadOriginalTargets } from '../training/evaluate';
import { prepareSlices } from '../training/slice-cache';
import { resolveTrainConfig } from '../training/train-config';
import { train } from '../training/trainer';

export interface TstrOptions {
  epochs: number;
  size: number;
  batch: number;
  seed: number;
  backend?: BackendChoice;
  /** A scratch folder outside every input; the run is made and removed there. */
  workDir: string;
  /** U-Net options (depth, baseFilters); the registry's defaults when absent. */
  unet?: { depth?: number; baseFilters?: number };
}

export interface TstrResult {
  dice: number | null;
  trainPairs: number;
  testSlices: number;
}

/**
 * Train-synthetic-test-real: a U-Net trained only on the given generated pairs (a fifth held out
 * for validation, seeded), its best checkpoint scored (per-image mean Dice, at each slice's own size)
 * on the real test slices. A GAN whose pairs teach a model to segment real CT scores high.
 */
export async function tstrDice(pairsDir: string, pairIds: readonly string[], real: Dataset, testIds: readonly string[], options: TstrOptions): Promise<TstrResult> {
  const shuffled = createRandom(options.seed).fork('tstr').shuffle([...pairIds]);
  const valCount = shuffled.length >= 5 ? Math.round(shuffled.length / 5) : 0;
  const val = shuffled.slice(0, valCount);
  const trainIds = shuffled.slice(valCount);
  await mkdir(options.workDir, { recursive: true });
  const splitFile = join(options.workDir, 'split.json');
  await writeJsonAtomic(splitFile, {
    version: 1,
    dataset: { root: pairsDir, format: 'png-pairs', contentHash: '', slices: pairIds.length },
    seed: options.seed,
    fractions: { train: trainIds.length / pairIds.length, val: valCount / pairIds.length, test: 0 },
    grouping: { rule: 'default', ruleCounts: {} },
    slices: { train: trainIds, val, test: [] },
    groups: { train: [], val: [], test: [] },
    excluded: [],
    stats: {},
    leakage: { groupsInSeveralSplits: 0, duplicatesAcrossSplits: 0, randomSplitTestNearTrain: 0 },
  });
  const runDir = join(options.workDir, 'run');
  const config = resolveTrainConfig({
    data: pairsDir,
    splitFile,
    epochs: options.epochs,
    size: options.size,
    batch: options.batch,
    seed: options.seed,
    lr: 3e-3,
    ...(options.backend ? { backend: options.backend } : {}),
    model: { name: 'unet', options: { ...(options.unet ?? {}) } },
  });
  try {
    await train({ runDir, config, cacheDir: join(options.workDir, 'cache') });
    if (testIds.length === 0) return { dice: null, trainPairs: trainIds.length, testSlices: 0 };
    const slices = await prepareSlices(real, testIds, config.size, { cacheDir: join(options.workDir, 'cache') });
    const originals = await loadOriginalTargets(real, testIds, false);
    const { model } = await loadCheckpoint(runDir, 'best');
    try {
      const evaluation = await evaluateInferenceCopy(model, config.model, slices, createLoss(config.loss, config.lossOptions), config.batch, config.threshold, originals);
      return { dice: evaluation.metrics.dice, trainPairs: trainIds.length, testSlices: testIds.length };
    } finally {
      model.dispose();
    }
  } finally {
    await rm(options.workDir, { recursive: true, force: true });
  }
}
