import { resolve } from 'node:path';
import type { DatasetSplit } from '../datasets/split-dataset';
import { CovsegError } from '../errors';
import { taskOf } from '../training/class-task';
import type { TrainConfig } from '../training/train-config';
import { fileSha256 } from './gan-record';
import { pairsForRatio, readPairsSource, refuseLeakage, selectPairs } from './pairs-source';

/** What a run records about the generated pairs it trains on (RunRecord.gan). */
export interface GanPairsUsed {
  pairsDir: string;
  /** See selectPairs: `accepted` once a pair was accepted, else `not-rejected` (or `all` when nothing was curated). */
  selection: 'accepted' | 'not-rejected' | 'all';
  available: number;
  used: number;
  /** Generated : real, when one was asked for. */
  ratio?: number;
  generation: number;
  ids: string[];
}

/**
 * The generated pairs an origin+gan run trains on, after the leakage guard: the GAN lineage behind
 * them must have trained on this run's split file (same bytes) of this dataset, and never on its
 * val or test slices. Generated pairs only ever join the training pool.
 */
export async function ganPairsFor(config: TrainConfig, split: DatasetSplit, contentHash: string): Promise<GanPairsUsed> {
  const pairsDir = config.recipe!.ganDir!;
  const source = await readPairsSource(pairsDir);
  refuseLeakage(source, pairsDir, {
    ...(config.splitFile ? { splitFile: config.splitFile, splitSha256: await fileSha256(config.splitFile) } : {}),
    val: split.slices.val,
    test: split.slices.test,
    contentHash,
  });
  if (taskOf(config) === 'ggo-consolidation' && source.classes !== 'ggo-consolidation') {
    throw new CovsegError('bad-parameter', `the pairs in ${pairsDir} carry any-lesion masks only, so they cannot train --classes ggo-consolidation`, {
      file: pairsDir,
      fix: 'train the GAN with class maps (`covseg gan train --classes ggo-consolidation`), or train with --classes lesion',
    });
  }
  const selected = await selectPairs(pairsDir);
  const chosen = pairsForRatio(selected.pairs, config.recipe!.ganRatio, split.slices.train.length, config.seed);
  return {
    pairsDir: resolve(pairsDir),
    selection: selected.selection,
    available: selected.available,
    used: chosen.length,
    ...(config.recipe!.ganRatio !== undefined ? { ratio: config.recipe!.ganRatio } : {}),
    generation: source.generation,
    ids: chosen.map((p) => p.id),
  };
}
