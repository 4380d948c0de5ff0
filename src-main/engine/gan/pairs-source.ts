import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import { CovsegError } from '../errors';
import { createRandom } from '../random/seeded-random';
import type { GanProvenance } from './gan-record';
import { readPairs } from './pairs-file';

/** PAIRSDIR/generator.json: which GAN made the pairs, with its provenance copied, so the folder is checkable on its own. */
export const PAIRS_SOURCE_FILE = 'generator.json';

export interface PairsSource extends GanProvenance {
  version: 1;
  /** The GAN folder (absolute) and the epoch of its checkpoint. */
  ganDir: string;
  epoch: number;
}

export async function readPairsSource(pairsDir: string): Promise<PairsSource> {
  const file = join(pairsDir, PAIRS_SOURCE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CovsegError('not-found', `${pairsDir} has no ${PAIRS_SOURCE_FILE}: CovSeg cannot tell which split the GAN behind these pairs trained on`, {
      file,
      fix: 'use a folder made by `covseg gan generate --gan GANDIR --count N --out PAIRSDIR` (it records the GAN, its split and its lineage)',
    });
  }
  try {
    return JSON.parse(text) as PairsSource;
  } catch {
    throw new CovsegError('corrupt-file', `${file} is not valid JSON`, { file, fix: 'generate the pairs again' });
  }
}

/**
 * Which pairs a consumer uses, and it says which: the accepted ones once any pair was accepted;
 * before that every pair nobody rejected (all of them when nothing was curated), so rejecting a few
 * bad pairs never makes the rest unusable.
 */
export interface PairsSelection {
  pairs: GeneratedPair[];
  selection: 'accepted' | 'not-rejected' | 'all';
  available: number;
}

export async function selectPairs(pairsDir: string): Promise<PairsSelection> {
  const all = await readPairs(pairsDir);
  const accepted = all.filter((p) => p.decision.state === 'accepted');
  const notRejected = all.filter((p) => p.decision.state !== 'rejected');
  const selection = accepted.length > 0 ? 'accepted' : notRejected.length < all.length ? 'not-rejected' : 'all';
  const pairs = accepted.length > 0 ? accepted : notRejected;
  if (pairs.length === 0) {
    throw new CovsegError('bad-parameter', `${pairsDir} has no pairs to train on${all.length ? ': every pair was rejected' : ''}`, {
      file: pairsDir,
      fix: all.length ? 'accept some pairs (`covseg gan curate --accept`, or the Gallery), or generate more' : 'generate pairs with `covseg gan generate`',
    });
  }
  return { pairs, selection, available: all.length };
}

/** Seeded choice of at most `ratio x realCount` pairs (all of them without a ratio), in file order. */
export function pairsForRatio(pairs: readonly GeneratedPair[], ratio: number | undefined, realCount: number, seed: number): GeneratedPair[] {
  if (ratio === undefined) return [...pairs];
  const wanted = Math.min(pairs.length, Math.round(ratio * realCount));
  const chosen = new Set(createRandom(seed).fork('gan pairs').shuffle(pairs.map((_, k) => k)).slice(0, wanted));
  return pairs.filter((_, k) => chosen.has(k));
}

/** Every slice id a GAN lineage trained on: its own training split and those of the GANs behind its pairs. */
export function slicesSeen(provenance: GanProvenance): Set<string> {
  const seen = new Set(provenance.split.train);
  for (const p of provenance.pairs) for (const id of slicesSeen(p.from)) seen.add(id);
  return seen;
}

/**
 * The leakage guard: generated pairs may train a model only when the GAN lineage behind them trained
 * on the same dataset and split as the model, so no validation or test slice reached a generator.
 * Refuses (naming the fix) a run without a split file, one whose val/test slices a GAN saw, and one
 * on a different split or dataset.
 */
export function refuseLeakage(
  source: GanProvenance,
  pairsDir: string,
  run: { splitFile?: string; splitSha256?: string; val: readonly string[]; test: readonly string[]; contentHash: string },
): void {
  const fix = `train with --split ${source.split.file} (the split the GAN trained on), or train a GAN on this run's split`;
  if (!run.splitFile) {
    throw new CovsegError('bad-split', `generated pairs in ${pairsDir} can only train a run on the split their GAN was trained on, and this run has no --split`, { file: pairsDir, fix });
  }
  const seen = slicesSeen(source);
  const leaked = [...run.val, ...run.test].filter((id) => seen.has(id));
  if (leaked.length > 0) {
    throw new CovsegError('bad-split', `the GAN behind ${pairsDir} trained on ${leaked.length} slice(s) this run validates or tests on (e.g. ${leaked[0]}): its pairs would leak them`, { file: run.splitFile, fix });
  }
  if (source.dataset.contentHash !== run.contentHash) {
    throw new CovsegError('bad-split', `the GAN behind ${pairsDir} trained on another dataset (${source.dataset.root})`, { file: pairsDir, fix: `train on ${source.dataset.root} with --split ${source.split.file}` });
  }
  if (source.split.sha256 !== run.splitSha256) {
    throw new CovsegError('bad-split', `the GAN behind ${pairsDir} trained on a different split (${source.split.file})`, { file: run.splitFile, fix });
  }
}
