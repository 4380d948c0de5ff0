import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { requireParameter } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { guardEmptyFolder } from '../files/output-guard';
import { encodeGrayPng } from '../imaging/png-io';
import { createRandom } from '../random/seeded-random';
import { acquireFolderLock } from '../runs/run-lock';
import { loadGanCheckpoint } from './gan-checkpoint';
import { conditionPlanes, imageToUnit, loadGanSamples, unitToImage, type GanSample } from './gan-data';
import { createGanNetworks } from './gan-networks';
import { provenanceOf, readGanRecord } from './gan-record';
import { deriveMask } from './derive-masks';
import { writePairs } from './pairs-file';
import { PAIRS_SOURCE_FILE, type PairsSource } from './pairs-source';

export interface GenerateOptions {
  ganDir: string;
  out: string;
  count: number;
  seed: number;
  /** A frames/ + masks/ (+ labels/) folder whose masks feed the generator instead of the GAN's training masks. */
  fromMasks?: string;
  backend?: BackendChoice;
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  count: number;
  out: string;
  byOrigin: Record<string, number>;
}

/**
 * Writes `count` generated pairs into `out` in the Kaggle layout — frames/ (generated image),
 * masks/ (any lesion, 0/255), labels/ (class map 0/1/2, for class-conditioned GANs) — plus
 * pairs.jsonl (one record each, decision pending) and generator.json (the GAN's provenance, for the
 * leakage guard). Each pair draws from its own seeded stream, so the same seed gives the same bytes.
 */
export async function generatePairs(options: GenerateOptions): Promise<GenerateResult> {
  requireParameter(Number.isInteger(options.count) && options.count >= 1 && options.count <= 100_000, `--count must be an integer from 1 to 100000, got ${options.count}`);
  requireParameter(Number.isInteger(options.seed), `--seed must be an integer, got ${options.seed}`);
  const ganDir = resolve(options.ganDir);
  const record = await readGanRecord(ganDir);
  const inputs = [ganDir, record.dataset.root, ...(options.fromMasks ? [options.fromMasks] : [])];
  await guardEmptyFolder(options.out, { flag: '--out', inputs, force: Boolean(options.force) }, 'pairs');
  const lock = await acquireFolderLock(options.out, 'covseg gan generate');
  try {
    await selectBackend(options.backend ?? record.config.backend);
    const { size } = record.config;
    const planes = record.classes === 'lesion' ? 1 : 2;
    const trainDataset = await openDataset(record.dataset.root);
    const training = await loadGanSamples(trainDataset, record.split.train, size, planes);
    let maskSamples: GanSample[] = training;
    if (options.fromMasks) {
      const other = await openDataset(options.fromMasks);
      maskSamples = await loadGanSamples(other, other.slices.map((s) => s.id), size, planes);
    }
    const nets = createGanNetworks({ kind: record.kind, size, planes, generatorFilters: record.config.generatorFilters, discriminatorFilters: record.config.discriminatorFilters, seed: record.config.seed });
    try {
      const { state } = await loadGanCheckpoint(ganDir, nets);
      const source: PairsSource = { version: 1, ganDir, epoch: state.epoch, ...provenanceOf(record) };
      await writeJsonAtomic(join(options.out, PAIRS_SOURCE_FILE), source);
      const pairs: GeneratedPair[] = [];
      const byOrigin: Record<string, number> = {};
      const root = createRandom(options.seed).fork('gan generate');
      for (let i = 0; i < options.count; i++) {
        if (options.signal?.aborted) break;
        const random = root.fork(`pair ${i}`);
        const mask = await deriveMask(maskSamples, size, planes, random.fork('mask'));
        const noiseSeed = random.fork('noise').int(2 ** 24);
        // DAGAN restyles another real training slice to fit the mask; pix2pix draws from the mask alone.
        const reference = nets.usesReference ? training[random.fork('reference').int(training.length)]! : undefined;
        const output = tf.tidy(() => {
          const condition = tf.tensor4d(conditionPlanes(mask.classMap, planes), [1, size, size, planes]);
          const ref = reference ? tf.tensor4d(imageToUnit(reference.image), [1, size, size, 1]) : undefined;
          return nets.generate(condition, ref, noiseSeed);
        });
        const image = unitToImage(await output.data());
        output.dispose();
        const id = `gan_${String(i + 1).padStart(5, '0')}`;
        const name = `${id}.png`;
        await writeFileAtomic(join(options.out, 'frames', name), await encodeGrayPng({ width: size, height: size, data: image }));
        await writeFileAtomic(join(options.out, 'masks', name), await encodeGrayPng({ width: size, height: size, data: Uint8Array.from(mask.classMap, (c) => (c > 0 ? 255 : 0)) }));
        if (planes === 2) await writeFileAtomic(join(options.out, 'labels', name), await encodeGrayPng({ width: size, height: size, data: mask.classMap }));
        pairs.push({
          id,
          generator: { kind: record.kind, ganDir, epoch: state.epoch, generation: record.generation },
          sources: [...mask.sources, ...(reference ? [reference.id] : [])],
          maskOrigin: mask.origin,
          seed: noiseSeed,
          decision: { state: 'pending' },
        });
        byOrigin[mask.origin] = (byOrigin[mask.origin] ?? 0) + 1;
        options.onProgress?.(i + 1, options.count);
      }
      await writePairs(options.out, pairs);
      return { count: pairs.length, out: resolve(options.out), byOrigin };
    } finally {
      nets.dispose();
    }
  } finally {
    await lock.release();
  }
}
