import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GanKind } from '../../../src-shared/contract/gan-pairs';
import type { BackendInfo } from '../backend/select-backend';
import { CovsegError } from '../errors';
import type { ClassTask } from '../training/class-task';
import type { GanConfig } from './gan-config';
import type { PairsSelection } from './pairs-source';

export const GAN_FILES = { record: 'gan.json', metrics: 'metrics.jsonl', samples: 'samples', checkpoints: 'checkpoints', status: 'status.json' } as const;

/** Where a GAN's training data came from: what the leakage guard and the lineage need. */
export interface GanProvenance {
  kind: GanKind;
  /** 1 for a GAN trained on real slices only; 1 + the highest generation of the pairs it also trained on. */
  generation: number;
  classes: ClassTask;
  dataset: { root: string; contentHash: string };
  /** The split file (absolute path), the SHA-256 of its bytes, and the training slices the GAN saw. */
  split: { file: string; sha256: string; train: string[] };
  /** Generated-pairs folders it also trained on, which pairs (accepted, or all when none was curated), and their GAN lineage. */
  pairs: { dir: string; selection: PairsSelection['selection']; used: number; available: number; from: GanProvenance }[];
}

/** GANDIR/gan.json: the configuration plus the provenance, written once before the first epoch. */
export interface GanRecord extends GanProvenance {
  version: 1;
  createdAt: string;
  config: GanConfig;
  backend: BackendInfo;
  /** Data-parallel threads the GAN trains on (resolved from `config.workers`); absent in older records, which trained on one. */
  workers?: number;
}

export async function fileSha256(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

export async function readGanRecord(ganDir: string): Promise<GanRecord> {
  const file = join(resolve(ganDir), GAN_FILES.record);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CovsegError('not-found', `${ganDir} is not a GAN folder (no ${GAN_FILES.record})`, { file, fix: 'train one with `covseg gan train --data DIR --split FILE --kind pix2pix --out GANDIR`' });
  }
  try {
    const record = JSON.parse(text) as GanRecord;
    if (record.version !== 1 || !record.split?.sha256) throw new Error('fields');
    return record;
  } catch {
    throw new CovsegError('corrupt-file', `${file} is not a GAN record`, { file, fix: 'train the GAN again into a new folder' });
  }
}

/** Provenance only (what a pairs folder copies from its GAN). */
export function provenanceOf(record: GanProvenance): GanProvenance {
  const { kind, generation, classes, dataset, split, pairs } = record;
  return { kind, generation, classes, dataset, split, pairs };
}
