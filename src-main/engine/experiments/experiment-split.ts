import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { openDataset } from '../datasets/open-dataset';
import { scanDataset } from '../datasets/scan-dataset';
import { readSplit, splitDataset, writeSplit } from '../datasets/split-dataset';
import type { ExperimentSpec } from './experiment-file';

/** Where the experiment's one split lives when the file names none. */
export const EXPERIMENT_SPLIT_FILE = 'split.json';

/**
 * The split every cell trains and tests on: the file's `split` if it exists, else one made now
 * (grouped by study, seeded) and written there or to EXPDIR/split.json. One split for all cells is
 * what makes per-slice pairing between recipes possible.
 */
export async function ensureExperimentSplit(spec: ExperimentSpec, expDir: string): Promise<{ file: string; made: boolean }> {
  const file = spec.split ?? join(expDir, EXPERIMENT_SPLIT_FILE);
  if (existsSync(file)) {
    const split = await readSplit(file);
    if (split.slices.test.length === 0) throw new CovsegError('bad-split', 'the experiment split has no test slices, so recipes cannot be compared', { file, fix: 'make a split with a test share > 0' });
    return { file, made: false };
  }
  const dataset = await openDataset(spec.dataset);
  const scan = await scanDataset(dataset);
  const split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, spec.splitOptions);
  await writeSplit(file, split);
  return { file, made: true };
}
