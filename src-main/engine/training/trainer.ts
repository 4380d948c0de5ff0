import { readExportManifest } from '../annotations/export-annotations';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, type BackendInfo } from '../backend/select-backend';
import { checkAdapterLimits } from '../backend/webgpu-limits';
import { openDataset } from '../datasets/open-dataset';
import { scanDataset } from '../datasets/scan-dataset';
import { readSplit, splitDataset, type DatasetSplit } from '../datasets/split-dataset';
import { CovsegError } from '../errors';
import { writeJsonAtomic } from '../files/atomic-write';
import { refuseFileAsFolder, refuseInsideInputs } from '../files/output-guard';
import { createLoss } from '../losses/segmentation-losses';
import type { DatasetMetrics, SliceMetrics } from '../metrics/segmentation-metrics';
import { createModel, describeModel, modelSizeMultiple, type ModelInfo } from '../models/registry';
import { createRandom } from '../random/seeded-random';
import { loadCheckpoint, readPointer, saveCheckpoint, type TrainerState } from '../runs/checkpoints';
import { appendMetrics, ensureRunDir, readJsonFile, RUN_FILES, truncateMetrics, writeStatus } from '../runs/run-files';
import { acquireRunLock, LOCK_FILE } from '../runs/run-lock';
import { adamSettingsFor, createAdamState, type AdamState } from './adam';
import { evaluateInferenceCopy, loadOriginalTargets, selectionDice, type Evaluation, type OriginalTargets } from './evaluate';
import { prepareSlices, type PreparedSlices } from './slice-cache';
import { parallelStepEngine, resolveWorkers, singleStepEngine, type Batch, type StepEngine } from './step-engine';
import { trainingPool, type TrainingPool } from './training-pool';
import { covsegVersion } from '../package-info';
import { evalResolutionOf, requireClassMaps, taskOf } from './class-task';
import { learningRateAt, type TrainConfig } from './train-config';
import { ganPairsFor, type GanPairsUsed } from '../gan/gan-pairs-in-training';
import { initialModel, resolveInitFrom, type RunParent } from './init-from-run';

/** config.json of a run: the configuration plus what it ran on, so it can be reproduced. */
export interface RunRecord {
  version: 1;
  createdAt: string;
  config: TrainConfig;
  /** `annotationsVersion`: the version of an `covseg annotations export` folder (its manifest), when trained on one. */
  dataset: { root: string; format: string; contentHash: string; slices: number; annotationsVersion?: string };
  split: { source: 'file' | 'generated'; file?: string; seed: number; fractions: DatasetSplit['fractions']; train: string[]; val: string[]; test: string[] };
  backend: BackendInfo;
  /** Data-parallel replicas the run trains with. */
  workers: number;
  /** Generated pairs the run trains on (origin+gan recipes): which folder, accepted or all, how many, which. */
  gan?: GanPairsUsed;
  /** Parameter count and pretrained source of the model as built (absent in older runs). */
  modelInfo?: ModelInfo;
  /** The run whose weights this one started from (`--init-from`): lineage of fine-tuned models. */
  parent?: RunParent;
  versions: { covseg: string; tfjs: string; node: string; platform: string };
}

export interface BatchLog {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  /** Milliseconds since training (this invocation) began, by the injected clock. */
  elapsedMs: number;
}

export interface EpochLog {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  valDice: number | null;
  valIou: number | null;
  valPooledDice: number | null;
  lr: number;
  seconds: number;
  /** Live tensors after the epoch: flat across epochs unless something leaks. */
  tensors: number;
}

export interface RunSummary {
  status: 'completed' | 'cancelled';
  epochs: number;
  bestEpoch: number;
  bestValDice: number | null;
  test?: { loss: number; metrics: DatasetMetrics; slices: SliceMetrics[] } & Partial<Pick<Evaluation, 'resolution' | 'classes' | 'classSlices'>>;
  timings: { totalSeconds: number; msPerStep: number; imagesPerSecond: number };
  backend: BackendInfo;
}

/** What every hook sees; checkpointing needs the model and optimizer, the progress bar only the logs. */
export interface TrainingContext {
  runDir: string;
  config: TrainConfig;
  record: RunRecord;
  model: tfl.LayersModel;
  optimizer: AdamState;
  state: TrainerState;
  batchesPerEpoch: number;
}

/** A phase outside the training steps that can take seconds: scanning the dataset, decoding slices, validation, test evaluation. */
export interface PhaseProgress {
  phase: 'scan' | 'decode' | 'validation' | 'test';
  /** Slices done so far, of `total`. */
  done: number;
  total: number;
}

/** tfjs-style hooks; each concern (progress, metrics log, checkpoints, pushes) is one of these. */
export interface TrainingHooks {
  /** Progress of a long phase (several calls per phase, the last with done = total); may come before onTrainBegin. */
  onPhase?(progress: PhaseProgress): void | Promise<void>;
  onTrainBegin?(context: TrainingContext): void | Promise<void>;
  onEpochBegin?(epoch: number, context: TrainingContext): void | Promise<void>;
  onBatchEnd?(log: BatchLog, context: TrainingContext): void | Promise<void>;
  onEpochEnd?(log: EpochLog, context: TrainingContext & { improved: boolean }): void | Promise<void>;
  onTrainEnd?(summary: RunSummary, context: TrainingContext): void | Promise<void>;
}

export interface TrainOptions {
  runDir: string;
  /** The configuration of a new run; ignored on resume (the run's own config.json is used). */
  config: TrainConfig;
  resume?: boolean;
  hooks?: TrainingHooks[];
  /** Cancel: training stops after the current batch and the run stays valid and resumable. */
  signal?: AbortSignal;
  /** Milliseconds; injectable so tests control time. */
  clock?: () => number;
  cacheDir?: string;
  /** Extra epochs on resume beyond the stored config (e.g. `--epochs` raised). */
  epochs?: number;
}


/** The hooks every run has: metrics.jsonl and checkpoints. */
export const metricsLogHook: TrainingHooks = {
  onEpochEnd: async (log, context) => appendMetrics(context.runDir, log),
};

export const checkpointHook: TrainingHooks = {
  onEpochEnd: async (_log, context) => saveCheckpoint(context.runDir, context.model, context.optimizer, context.state, context.improved),
};

async function callHooks<K extends keyof TrainingHooks>(hooks: TrainingHooks[], name: K, ...args: Parameters<NonNullable<TrainingHooks[K]>>): Promise<void> {
  for (const hook of hooks) await (hook[name] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
}

/**
 * A progress callback for one phase that hands its calls to the hooks in order (the first, then at
 * most one per `intervalMs`, and the last); `flush` waits until every hook has seen them.
 */
function phaseReporter(hooks: TrainingHooks[], phase: PhaseProgress['phase'], intervalMs = 250): { report: (done: number, total: number) => void; flush: () => Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  let last = -Infinity;
  return {
    report: (done, total) => {
      const now = Date.now();
      if (done !== total && done > 1 && now - last < intervalMs) return;
      last = now;
      chain = chain.then(() => callHooks(hooks, 'onPhase', { phase, done, total }));
    },
    flush: () => chain,
  };
}

async function resolveSplit(config: TrainConfig, hooks: TrainingHooks[]): Promise<{ dataset: Awaited<ReturnType<typeof openDataset>>; split: DatasetSplit; contentHash: string }> {
  const dataset = await openDataset(config.data);
  const scanning = phaseReporter(hooks, 'scan');
  const scan = await scanDataset(dataset, scanning.report);
  await scanning.flush();
  const invalid = scan.summaries.filter((s) => !s.valid).length;
  if (scan.summaries.length - invalid === 0) {
    throw new CovsegError('bad-layout', 'the dataset has no valid slices to train on', { file: config.data, fix: 'run `covseg dataset check` on it' });
  }
  let split: DatasetSplit;
  if (config.splitFile) {
    split = await readSplit(config.splitFile);
    const known = new Set(scan.summaries.filter((s) => s.valid).map((s) => s.id));
    const unknown = [...split.slices.train, ...split.slices.val, ...split.slices.test].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new CovsegError('bad-split', `split file names ${unknown.length} slice(s) this dataset does not have (e.g. ${unknown[0]})`, {
        file: config.splitFile,
        fix: 'make the split from this dataset with `covseg split`',
      });
    }
  } else {
    split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, config.split);
  }
  if (split.slices.train.length === 0) throw new CovsegError('bad-split', 'the training split is empty', { fix: 'lower --val/--test or use a larger dataset' });
  requireClassMaps(taskOf(config), scan.summaries, new Set([...split.slices.train, ...split.slices.val, ...split.slices.test]));
  return { dataset, split, contentHash: scan.contentHash };
}


/**
 * Trains a segmentation model into `runDir`: per epoch shuffled batches (seeded), Adam, validation
 * Dice, a checkpoint, a metrics line; early stopping; at the end the best checkpoint is evaluated on
 * the test split. Resumable from the last checkpoint; cancellable through `signal`.
 */
export async function train(options: TrainOptions): Promise<RunSummary> {
  const runDir = resolve(options.runDir);
  const inputs = [options.config.data, ...(options.config.splitFile ? [options.config.splitFile] : []), ...(options.config.recipe?.ganDir ? [options.config.recipe.ganDir] : []), ...(options.config.initFrom ? [options.config.initFrom] : [])];
  await refuseFileAsFolder(runDir, { flag: '--out' });
  await refuseInsideInputs(runDir, { flag: '--out', inputs }, 'runs');
  const existed = existsSync(runDir);
  // One writer per run folder: taken before the first write, held to the end (see run-lock.ts).
  const lock = await acquireRunLock(runDir);
  try {
    return await trainLocked(runDir, options);
  } catch (error) {
    // Validation failed before config.json: remove the folder this call created, so no stuck run is left.
    if (!existed && !existsSync(join(runDir, RUN_FILES.config))) await rm(runDir, { recursive: true, force: true });
    throw error;
  } finally {
    await lock.release();
  }
}

async function trainLocked(runDir: string, options: TrainOptions): Promise<RunSummary> {
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  let config = options.config;
  let record: RunRecord;
  const configFile = join(runDir, RUN_FILES.config);
  if (options.resume) {
    record = await readJsonFile<RunRecord>(runDir, RUN_FILES.config, 'run configuration');
    config = { ...record.config, epochs: options.epochs ?? record.config.epochs };
    await refuseInsideInputs(runDir, { flag: '--out', inputs: [config.data] }, 'runs');
  } else if (existsSync(configFile)) {
    throw new CovsegError('bad-parameter', 'this folder already holds a run', { file: runDir, fix: 'resume it with --resume, or choose another --out' });
  } else {
    const foreign = (await readdir(runDir)).filter((name) => name !== LOCK_FILE);
    if (foreign.length > 0) {
      throw new CovsegError('unsafe-output', `--out ${runDir} is not empty and holds no run (e.g. ${foreign.sort()[0]}); a new run needs a new or empty folder`, {
        file: runDir,
        fix: 'choose a new folder for --out (it is created), or empty this one',
      });
    }
  }
  const backend = await selectBackend(config.backend);
  if (backend.adapter) {
    // Before anything is written: a batch too large for one GPU buffer fails at the first step otherwise.
    const sized = createModel(config.model.name, { ...config.model.options, seed: config.seed });
    try {
      checkAdapterLimits(backend.adapter, sized, config.batch, config.size, modelSizeMultiple(config.model));
    } finally {
      sized.dispose();
    }
  }
  const hooks = [metricsLogHook, checkpointHook, ...(options.hooks ?? [])];
  const { dataset, split, contentHash } = await resolveSplit(config, hooks);
  // The leakage guard runs before anything is written: pairs from a GAN that saw val/test slices never train.
  const gan = !options.resume && config.recipe?.gan && config.recipe.ganDir ? await ganPairsFor(config, split, contentHash) : undefined;
  // A parent that does not fit is refused here, before config.json exists.
  const parent = !options.resume && config.initFrom ? await resolveInitFrom(config) : undefined;
  let fresh: tfl.LayersModel | undefined;
  if (options.resume) {
    if (record!.dataset.contentHash !== contentHash) {
      throw new CovsegError('bad-run', 'the dataset changed since this run started (content hash differs)', { file: config.data, fix: 'resume with the original data, or start a new run' });
    }
  } else {
    fresh = await initialModel(config);
    const exported = await readExportManifest(dataset.root);
    record = {
      version: 1,
      createdAt: new Date().toISOString(),
      config,
      dataset: { root: dataset.root, format: dataset.format, contentHash, slices: dataset.slices.length, ...(exported ? { annotationsVersion: exported.version } : {}) },
      split: {
        source: config.splitFile ? 'file' : 'generated',
        ...(config.splitFile ? { file: resolve(config.splitFile) } : {}),
        seed: split.seed,
        fractions: split.fractions,
        train: split.slices.train,
        val: split.slices.val,
        test: split.slices.test,
      },
      backend,
      workers: resolveWorkers(config.workers ?? 0, backend),
      ...(gan ? { gan } : {}),
      modelInfo: describeModel(fresh),
      ...(parent ? { parent } : {}),
      versions: { covseg: covsegVersion(), tfjs: tf.version_core, node: process.versions.node, platform: `${process.platform}-${process.arch}` },
    };
    await ensureRunDir(runDir);
    await writeJsonAtomic(configFile, record);
  }
  const runRecord = record!;
  const ids = { train: runRecord.split.train, val: runRecord.split.val, test: runRecord.split.test };
  // Decoding every slice can take half a minute on a large set: reported as one phase over all three splits.
  const decoding = phaseReporter(hooks, 'decode');
  const toDecode = ids.train.length + ids.val.length + ids.test.length;
  let decodedBefore = 0;
  const prepare = async (list: string[]) => {
    const prepared = await prepareSlices(dataset, list, config.size, {
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      withLabels: taskOf(config) !== 'lesion',
      onProgress: (done) => decoding.report(decodedBefore + done, toDecode),
    });
    decodedBefore += list.length;
    return prepared;
  };
  const trainSlices = await prepare(ids.train);
  const valSlices = await prepare(ids.val);
  const testSlices = await prepare(ids.test);
  await decoding.flush();

  const loss = createLoss(config.loss, config.lossOptions);
  let model: tfl.LayersModel;
  let optimizer: AdamState;
  let state: TrainerState;
  if (options.resume && (await readPointer(runDir, 'last'))) {
    const checkpoint = await loadCheckpoint(runDir, 'last');
    ({ model, optimizer, state } = checkpoint);
  } else {
    // A new run, or one stopped before its first checkpoint: that resumes from scratch, same config.
    model = fresh ?? (await initialModel(config));
    optimizer = createAdamState(model.trainableWeights.map((w) => w.read().size));
    state = { epoch: 0, bestEpoch: 0, bestValDice: -1, epochsWithoutImprovement: 0 };
  }
  const pool: TrainingPool = await trainingPool(trainSlices, config, runRecord.gan?.ids);
  const batchesPerEpoch = Math.ceil(pool.count / config.batch);
  const context: TrainingContext = { runDir, config, record: runRecord, model, optimizer, state, batchesPerEpoch };
  // Epochs past the checkpoint are redone: drop their lines (and a torn tail) so none is logged twice.
  await truncateMetrics(runDir, state.epoch);
  await writeStatus(runDir, { state: 'running', epoch: state.epoch, pid: process.pid });
  let steps = 0;
  let stepMs = 0;
  let engine: StepEngine | undefined;
  try {
    const workers = runRecord.workers ?? 1;
    engine =
      workers > 1 && config.batch > 1
        ? await parallelStepEngine(model, optimizer, config.size, loss, { backend: config.backend, loss: config.loss, lossOptions: config.lossOptions, adam: adamSettingsFor(config.optimizer) })
        : singleStepEngine(model, optimizer, config.size, loss, adamSettingsFor(config.optimizer));
    await callHooks(hooks, 'onTrainBegin', context);
    let cancelled = false;
    while (state.epoch < config.epochs && !cancelled) {
      const epoch = state.epoch;
      const epochStart = clock();
      await callHooks(hooks, 'onEpochBegin', epoch, context);
      // Each epoch's order depends only on seed and epoch, so a resumed run sees the same batches.
      const order = createRandom(config.seed).fork(`epoch ${epoch}`).shuffle([...Array(pool.count).keys()]);
      const lr = learningRateAt(config, epoch);
      let lossSum = 0;
      const batchAt = (b: number): Promise<Batch> => pool.batch(order.slice(b * config.batch, (b + 1) * config.batch), epoch, b);
      // The next batch is assembled (and augmented) while the current step waits for its worker.
      let upcoming = batchAt(0);
      for (let b = 0; b < batchesPerEpoch; b++) {
        const batch = await upcoming;
        if (b + 1 < batchesPerEpoch) upcoming = batchAt(b + 1);
        const stepStart = clock();
        const value = await engine.step(batch, lr);
        stepMs += clock() - stepStart;
        steps++;
        lossSum += value * batch.count;
        await callHooks(hooks, 'onBatchEnd', { epoch, batch: b, batches: batchesPerEpoch, loss: value, elapsedMs: clock() - started }, context);
        if (options.signal?.aborted) {
          cancelled = true;
          break;
        }
      }
      if (cancelled) break;
      const validating = phaseReporter(hooks, 'validation');
      const validation = valSlices.ids.length > 0 ? await evaluateInferenceCopy(model, config.model, valSlices, loss, config.batch, config.threshold, undefined, validating.report) : undefined;
      await validating.flush();
      const valDice = validation ? selectionDice(validation) : null;
      const improved = valDice === null || valDice > state.bestValDice;
      state.epoch = epoch + 1;
      if (improved) {
        state.bestValDice = valDice ?? state.bestValDice;
        state.bestEpoch = state.epoch;
        state.epochsWithoutImprovement = 0;
      } else state.epochsWithoutImprovement++;
      const log: EpochLog = {
        epoch: state.epoch,
        trainLoss: lossSum / pool.count,
        valLoss: validation?.loss ?? null,
        valDice,
        // Three-class runs log the class means, like valDice, so the two curves describe the same thing.
        valIou: validation ? (validation.classes ? validation.classes.meanIou : (validation.metrics.iou ?? validation.metrics.pooled.iou)) : null,
        valPooledDice: validation?.metrics.pooled.dice ?? null,
        lr,
        seconds: (clock() - epochStart) / 1000,
        tensors: tf.memory().numTensors,
      };
      await callHooks(hooks, 'onEpochEnd', log, { ...context, improved });
      await writeStatus(runDir, { state: 'running', epoch: state.epoch, pid: process.pid });
      if (config.patience !== null && state.epochsWithoutImprovement >= config.patience) break;
      if (options.signal?.aborted) cancelled = true;
    }
    const totalSeconds = (clock() - started) / 1000;
    const timings = { totalSeconds, msPerStep: steps > 0 ? stepMs / steps : 0, imagesPerSecond: stepMs > 0 ? (steps * config.batch * 1000) / stepMs : 0 };
    if (cancelled) {
      await writeStatus(runDir, { state: 'cancelled', epoch: state.epoch });
      const summary: RunSummary = { status: 'cancelled', epochs: state.epoch, bestEpoch: state.bestEpoch, bestValDice: state.bestValDice >= 0 ? state.bestValDice : null, timings, backend };
      await callHooks(hooks, 'onTrainEnd', summary, context);
      return summary;
    }
    const originals = evalResolutionOf(config) === 'original' && testSlices.ids.length > 0 ? await loadOriginalTargets(dataset, testSlices.ids, taskOf(config) !== 'lesion') : undefined;
    const summary = await finishRun(runDir, config, testSlices, state, timings, backend, originals, hooks);
    await writeStatus(runDir, { state: 'completed', epoch: state.epoch });
    await callHooks(hooks, 'onTrainEnd', summary, context);
    return summary;
  } catch (error) {
    // On a full disk this write fails too; the original error is the one to report.
    await writeStatus(runDir, { state: 'failed', epoch: state.epoch, error: (error as Error).message }).catch(() => undefined);
    throw error;
  } finally {
    await engine?.dispose();
    model.dispose();
  }
}


async function finishRun(
  runDir: string,
  config: TrainConfig,
  testSlices: PreparedSlices,
  state: TrainerState,
  timings: RunSummary['timings'],
  backend: BackendInfo,
  originals: OriginalTargets | undefined,
  hooks: TrainingHooks[],
): Promise<RunSummary> {
  const summary: RunSummary = { status: 'completed', epochs: state.epoch, bestEpoch: state.bestEpoch, bestValDice: state.bestValDice >= 0 ? state.bestValDice : null, timings, backend };
  if (testSlices.ids.length > 0) {
    const { model: best } = await loadCheckpoint(runDir, 'best');
    try {
      const testing = phaseReporter(hooks, 'test');
      const evaluation = await evaluateInferenceCopy(best, config.model, testSlices, createLoss(config.loss, config.lossOptions), config.batch, config.threshold, originals, testing.report);
      await testing.flush();
      summary.test = { loss: evaluation.loss, metrics: evaluation.metrics, slices: evaluation.slices, resolution: evaluation.resolution };
      if (evaluation.classes) Object.assign(summary.test, { classes: evaluation.classes, classSlices: evaluation.classSlices });
      if (config.savePredictions) {
        const { writePredictions } = await import('./predictions');
        await writePredictions(best, config.model, testSlices, join(runDir, RUN_FILES.predictions), config.batch, config.threshold);
      }
    } finally {
      best.dispose();
    }
  }
  await writeJsonAtomic(join(runDir, RUN_FILES.summary), summary);
  return summary;
}
