import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select-backend';
import { openDataset } from '../datasets/open-dataset';
import { scanDataset } from '../datasets/scan-dataset';
import { readSplit } from '../datasets/split-dataset';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { refuseFileAsFolder, refuseInsideInputs } from '../files/output-guard';
import { createRandom } from '../random/seeded-random';
import { appendMetrics, truncateMetrics, writeStatus } from '../runs/run-files';
import { acquireFolderLock, LOCK_FILE } from '../runs/run-lock';
import type { ClassTask } from '../training/class-task';
import { resolveWorkers } from '../training/step-engine';
import type { GanConfig } from './gan-config';
import { hasGanCheckpoint, loadGanCheckpoint, saveGanCheckpoint, type GanTrainerState } from './gan-checkpoint';
import { conditionPlanes, imageToUnit, loadGanSamples, loadPairsSamples, unitToImage, type GanSample } from './gan-data';
import { createGanNetworks, type GanNetworks, type NetworkOptions } from './gan-networks';
import { fileSha256, GAN_FILES, readGanRecord, type GanProvenance, type GanRecord } from './gan-record';
import { netOptimizer, parallelGanStepEngine, singleGanStepEngine, type GanBatch, type GanStepEngine } from './gan-step';
import { readPairsSource, refuseLeakage, selectPairs } from './pairs-source';
import { classMapTile, gridPng } from './sample-grid';

export interface GanBatchLog {
  epoch: number;
  batch: number;
  batches: number;
  gLoss: number;
  dLoss: number;
  elapsedMs: number;
}

/** One line of GANDIR/metrics.jsonl. */
export interface GanEpochLog {
  epoch: number;
  gLoss: number;
  dLoss: number;
  l1: number;
  seconds: number;
  /** Live tensors after the epoch: flat unless something leaks. */
  tensors: number;
  /** The epoch's sample grid, relative to GANDIR. */
  samples: string;
}

export interface GanSummary {
  status: 'completed' | 'cancelled';
  epochs: number;
  ganDir: string;
  last?: GanEpochLog;
}

export interface GanTrainContext {
  ganDir: string;
  record: GanRecord;
  state: GanTrainerState;
  batchesPerEpoch: number;
  trainCount: number;
}

/** tfjs-style hooks, as the segmentation trainer's: progress bar, progress file, pushes. */
export interface GanHooks {
  onTrainBegin?(context: GanTrainContext): void | Promise<void>;
  onBatchEnd?(log: GanBatchLog, context: GanTrainContext): void | Promise<void>;
  onEpochEnd?(log: GanEpochLog, context: GanTrainContext): void | Promise<void>;
  onTrainEnd?(summary: GanSummary, context: GanTrainContext): void | Promise<void>;
}

export interface TrainGanOptions {
  ganDir: string;
  config: GanConfig;
  resume?: boolean;
  /** On resume: train to this many epochs instead of the stored number. */
  epochs?: number;
  hooks?: GanHooks[];
  signal?: AbortSignal;
  clock?: () => number;
}

const samplePath = (epoch: number) => join(GAN_FILES.samples, `epoch-${String(epoch).padStart(3, '0')}.png`);

/**
 * Trains a GAN into `ganDir` on the training slices of a split (and, GAN-on-GAN, on generated pairs
 * of GANs trained on the same split): per epoch shuffled batches (seeded), one discriminator and one
 * generator step per batch, a metrics line, a sample grid and a checkpoint. Resumable, cancellable.
 */
export async function trainGan(options: TrainGanOptions): Promise<GanSummary> {
  const ganDir = resolve(options.ganDir);
  const inputs = [options.config.data, options.config.splitFile, ...options.config.pairs];
  await refuseFileAsFolder(ganDir, { flag: '--out' });
  await refuseInsideInputs(ganDir, { flag: '--out', inputs }, 'gan');
  const existed = existsSync(ganDir);
  const lock = await acquireFolderLock(ganDir, 'covseg gan train');
  try {
    return await trainLocked(ganDir, options);
  } catch (error) {
    if (!existed && !existsSync(join(ganDir, GAN_FILES.record))) await rm(ganDir, { recursive: true, force: true });
    throw error;
  } finally {
    await lock.release();
  }
}

async function provenance(config: GanConfig): Promise<{ provenance: GanProvenance; dataset: Awaited<ReturnType<typeof openDataset>> }> {
  const dataset = await openDataset(config.data);
  const scan = await scanDataset(dataset);
  const split = await readSplit(config.splitFile);
  const valid = new Map(scan.summaries.filter((s) => s.valid).map((s) => [s.id, s]));
  const unknown = [...split.slices.train, ...split.slices.val, ...split.slices.test].filter((id) => !valid.has(id));
  if (unknown.length > 0) {
    throw new CovsegError('bad-split', `split file names ${unknown.length} slice(s) this dataset does not have (e.g. ${unknown[0]})`, { file: config.splitFile, fix: 'make the split from this dataset with `covseg split`' });
  }
  if (split.slices.train.length < 2) throw new CovsegError('bad-split', 'a GAN needs at least 2 training slices', { file: config.splitFile, fix: 'use a larger dataset or a smaller --val/--test share' });
  const withLabels = split.slices.train.every((id) => valid.get(id)!.hasLabels);
  const classes: ClassTask = config.classes === 'auto' ? (withLabels ? 'ggo-consolidation' : 'lesion') : config.classes;
  if (classes === 'ggo-consolidation' && !withLabels) {
    throw new CovsegError('bad-layout', '--classes ggo-consolidation needs a class map (labels/) for every training slice', { file: config.data, fix: 'add labels/ class maps, or use --classes lesion' });
  }
  const sha256 = await fileSha256(config.splitFile);
  const pairs: GanProvenance['pairs'] = [];
  for (const dir of config.pairs) {
    const source = await readPairsSource(dir);
    // GAN-on-GAN obeys the same guard as a segmentation run: earlier generators saw this split's training slices only.
    refuseLeakage(source, dir, { splitFile: config.splitFile, splitSha256: sha256, val: split.slices.val, test: split.slices.test, contentHash: scan.contentHash });
    if (source.classes !== classes) throw new CovsegError('bad-parameter', `the pairs in ${dir} encode ${source.classes} masks, this GAN ${classes}`, { file: dir, fix: `use --classes ${source.classes}, or other pairs` });
    const chosen = await selectPairs(dir);
    pairs.push({ dir: resolve(dir), selection: chosen.selection, used: chosen.pairs.length, available: chosen.available, from: source });
  }
  const generation = 1 + Math.max(0, ...pairs.map((p) => p.from.generation));
  return {
    dataset,
    provenance: {
      kind: config.kind,
      generation,
      classes,
      dataset: { root: dataset.root, contentHash: scan.contentHash },
      split: { file: resolve(config.splitFile), sha256, train: split.slices.train },
      pairs,
    },
  };
}

/** Rows of the per-epoch sample grid: the same training inputs every epoch, the same noise. */
async function sampleGrid(nets: GanNetworks, samples: GanSample[], size: number, planes: number): Promise<Buffer> {
  const shown = samples.slice(0, 4);
  const rows: Uint8Array[][] = [];
  for (let k = 0; k < shown.length; k++) {
    const sample = shown[k]!;
    const reference = nets.usesReference ? samples[(k + 1) % samples.length]! : undefined;
    const generated = tf.tidy(() => {
      const condition = tf.tensor4d(conditionPlanes(sample.classMap, planes), [1, size, size, planes]);
      const ref = reference ? tf.tensor4d(imageToUnit(reference.image), [1, size, size, 1]) : undefined;
      return nets.generate(condition, ref, 7);
    });
    const image = unitToImage(await generated.data());
    generated.dispose();
    rows.push([...(reference ? [reference.image] : []), classMapTile(sample.classMap, planes), sample.image, image]);
  }
  return gridPng(rows, size);
}

function assembleBatch(samples: GanSample[], indices: number[], size: number, planes: number, reference: ((k: number) => GanSample) | undefined): GanBatch {
  const plane = size * size;
  const batch: GanBatch = { count: indices.length, size, planes, image: new Float32Array(indices.length * plane), condition: new Float32Array(indices.length * plane * planes) };
  if (reference) batch.reference = new Float32Array(indices.length * plane);
  indices.forEach((index, j) => {
    const sample = samples[index]!;
    imageToUnit(sample.image, batch.image, j * plane);
    conditionPlanes(sample.classMap, planes, batch.condition, j * plane * planes);
    if (reference) imageToUnit(reference(index).image, batch.reference, j * plane);
  });
  return batch;
}

async function trainLocked(ganDir: string, options: TrainGanOptions): Promise<GanSummary> {
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const recordFile = join(ganDir, GAN_FILES.record);
  let record: GanRecord;
  let config = options.config;
  if (options.resume) {
    record = await readGanRecord(ganDir);
    config = { ...record.config, epochs: options.epochs ?? record.config.epochs };
  } else if (existsSync(recordFile)) {
    throw new CovsegError('bad-parameter', 'this folder already holds a GAN', { file: ganDir, fix: 'continue it with --resume, or choose another --out' });
  } else {
    const foreign = (await readdir(ganDir)).filter((name) => name !== LOCK_FILE);
    if (foreign.length > 0) throw new CovsegError('unsafe-output', `--out ${ganDir} is not empty and holds no GAN (e.g. ${foreign.sort()[0]})`, { file: ganDir, fix: 'choose a new or empty folder for --out' });
  }
  const backend = await selectBackend(config.backend);
  const { provenance: found, dataset } = await provenance(config);
  if (options.resume) {
    if (record!.dataset.contentHash !== found.dataset.contentHash || record!.split.sha256 !== found.split.sha256) {
      throw new CovsegError('bad-run', 'the dataset or the split file changed since this GAN started', { file: config.splitFile, fix: 'resume with the original data and split, or train a new GAN' });
    }
  } else {
    record = { version: 1, createdAt: new Date().toISOString(), ...found, config, backend, workers: resolveWorkers(config.workers ?? 0, backend) };
    await writeJsonAtomic(recordFile, record);
  }
  const gan = record!;
  const planes = gan.classes === 'lesion' ? 1 : 2;
  const samples = await loadGanSamples(dataset, gan.split.train, config.size, planes);
  for (const p of gan.pairs) {
    const chosen = await selectPairs(p.dir);
    samples.push(...(await loadPairsSamples(p.dir, chosen.pairs.map((x) => x.id), config.size, planes)));
  }
  const networks: NetworkOptions = { kind: config.kind, size: config.size, planes, generatorFilters: config.generatorFilters, discriminatorFilters: config.discriminatorFilters, seed: config.seed };
  const nets = createGanNetworks(networks);
  let engine: GanStepEngine | undefined;
  try {
    let state: GanTrainerState = { epoch: 0, gSteps: 0, dSteps: 0 };
    let g = netOptimizer(nets.g);
    let d = netOptimizer(nets.d);
    if (options.resume && (await hasGanCheckpoint(ganDir))) {
      const loaded = await loadGanCheckpoint(ganDir, nets);
      state = loaded.state;
      g = netOptimizer(nets.g, loaded.adam('g', g.names, state.gSteps));
      d = netOptimizer(nets.d, loaded.adam('d', d.names, state.dSteps));
    }
    // A record from before data-parallel GANs trained on one thread: a resume keeps that.
    const workers = gan.workers ?? 1;
    engine = workers > 1 && config.batch > 1 ? await parallelGanStepEngine(nets, { g, d }, { backend: config.backend, networks }) : singleGanStepEngine(nets, { g, d });
    const batchesPerEpoch = Math.ceil(samples.length / config.batch);
    const context: GanTrainContext = { ganDir, record: gan, state, batchesPerEpoch, trainCount: samples.length };
    const hooks = options.hooks ?? [];
    await truncateMetrics(ganDir, state.epoch);
    await writeStatus(ganDir, { state: 'running', epoch: state.epoch, pid: process.pid });
    for (const hook of hooks) await hook.onTrainBegin?.(context);
    let cancelled = false;
    let last: GanEpochLog | undefined;
    try {
      while (state.epoch < config.epochs && !cancelled) {
        const epoch = state.epoch;
        const epochStart = clock();
        // Batch order, references and noise depend only on (seed, epoch, batch): a resumed GAN sees the same.
        const epochRandom = createRandom(config.seed).fork(`gan epoch ${epoch}`);
        const order = epochRandom.fork('order').shuffle([...samples.keys()]);
        const referenceRandom = epochRandom.fork('reference');
        const references = samples.map((_, k) => (k + 1 + referenceRandom.int(samples.length - 1)) % samples.length);
        let sums = { gLoss: 0, dLoss: 0, l1: 0 };
        for (let b = 0; b < batchesPerEpoch; b++) {
          const indices = order.slice(b * config.batch, (b + 1) * config.batch);
          const batch = assembleBatch(samples, indices, config.size, planes, nets.usesReference ? (k) => samples[references[k]!]! : undefined);
          const seed = epochRandom.fork(`step ${b}`).int(2 ** 24);
          const losses = await engine.step(batch, config.lr, seed);
          state.gSteps = g.adam.step;
          state.dSteps = d.adam.step;
          sums = { gLoss: sums.gLoss + losses.gLoss * batch.count, dLoss: sums.dLoss + losses.dLoss * batch.count, l1: sums.l1 + losses.l1 * batch.count };
          for (const hook of hooks) await hook.onBatchEnd?.({ epoch, batch: b, batches: batchesPerEpoch, gLoss: losses.gLoss, dLoss: losses.dLoss, elapsedMs: clock() - started }, context);
          if (options.signal?.aborted) {
            cancelled = true;
            break;
          }
        }
        if (cancelled) break;
        state.epoch = epoch + 1;
        const samplesFile = samplePath(state.epoch);
        await writeFileAtomic(join(ganDir, samplesFile), await sampleGrid(nets, samples, config.size, planes));
        last = {
          epoch: state.epoch,
          gLoss: sums.gLoss / samples.length,
          dLoss: sums.dLoss / samples.length,
          l1: sums.l1 / samples.length,
          seconds: (clock() - epochStart) / 1000,
          tensors: tf.memory().numTensors,
          samples: samplesFile,
        };
        await appendMetrics(ganDir, last);
        await saveGanCheckpoint(ganDir, nets, { g: g.adam, d: d.adam, gNames: g.names, dNames: d.names }, state);
        await writeStatus(ganDir, { state: 'running', epoch: state.epoch, pid: process.pid });
        for (const hook of hooks) await hook.onEpochEnd?.(last, context);
        if (options.signal?.aborted) cancelled = true;
      }
    } catch (error) {
      await writeStatus(ganDir, { state: 'failed', epoch: state.epoch, error: (error as Error).message }).catch(() => undefined);
      throw error;
    }
    const summary: GanSummary = { status: cancelled ? 'cancelled' : 'completed', epochs: state.epoch, ganDir, ...(last ? { last } : {}) };
    await writeStatus(ganDir, { state: summary.status, epoch: state.epoch });
    for (const hook of hooks) await hook.onTrainEnd?.(summary, context);
    return summary;
  } finally {
    await engine?.dispose();
    nets.dispose();
  }
}
