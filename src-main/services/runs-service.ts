import { existsSync } from 'node:fs';
import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isRunId, type RunClassMetrics, type RunDetail, type RunListItem, type SliceScore } from '../../src-shared/contract';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { multiClassSliceMetrics } from '../engine/metrics/class-metrics';
import { sliceMetrics } from '../engine/metrics/segmentation-metrics';
import { openEngine, type EngineChoice, type SegmentationEngine } from '../engine/onnx/segmentation-engine';
import { loadCheckpoint } from '../engine/runs/checkpoints';
import { RUN_FILES } from '../engine/runs/run-files';
import { refuseLockedFolder } from '../engine/runs/run-lock';
import { isInside } from './file-access';
import { readRun, type RunView } from '../engine/runs/read-run';
import { outputChannels, taskOf, type ClassTask } from '../engine/training/class-task';
import { predictSliceWithEngine, type SlicePrediction } from '../engine/training/predict-mask';
import type { PredictMask } from '../engine/measure/measure-dataset';
import type { DatasetService } from './dataset-service';

/** A run ready to predict: its trained model, the engine that predicts (ONNX Runtime when it loads, else tfjs), and its split. */
interface LoadedRun {
  runId: string;
  trained: tfl.LayersModel;
  engine: SegmentationEngine;
  size: number;
  threshold: number;
  task: ClassTask;
  /** Where the run used each slice id, from its config.json. */
  splitOf: Map<string, NonNullable<SliceScore['split']>>;
  /** The dataset it was trained on: split ids only mean something there. */
  dataset: { root: string; contentHash: string };
}

/**
 * Runs kept loaded at once: the slice browser's run plus the two panes of its compare view, so
 * paging in compare mode never reloads a checkpoint (and re-exports it to ONNX) on every slice.
 */
const LOADED_RUNS = 3;

/** Runs on disk: lists, details, and predictions of their best checkpoint on any open dataset. */
export class RunsService {
  /** The runs used for predictions last, least recently used first. */
  private readonly loaded = new Map<string, LoadedRun>();
  /** The tail of the queue of model uses: one at a time, so no model is disposed while it predicts. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scores = new Map<string, SliceScore[]>();

  constructor(
    private readonly runsDir: string,
    private readonly datasets: DatasetService,
    private readonly isTraining: (runId: string) => boolean,
    private readonly options: {
      /** Which engine predicts overlays: `auto` takes ONNX Runtime when onnxruntime-node loads. */
      engine?: EngineChoice;
      /** True while the run trains or waits in the queue (such a run is never deleted); default isTraining. */
      hasJob?: (runId: string) => boolean;
      /** Opens a folder in the system's file manager (Electron's shell.openPath); absent in a browser. */
      openPath?: (path: string) => Promise<string>;
    } = {},
  ) {}

  private dir(runId: string): string {
    // Ids come from the renderer: only plain folder names inside the runs folder, checked here too
    // because the service is also called without the contract's validation (tests, CLI).
    if (!isRunId(runId)) throw new CovsegError('bad-parameter', `invalid run id "${runId}"`);
    return join(this.runsDir, runId);
  }

  private item(runId: string, run: RunView): RunListItem {
    const state = this.isTraining(runId) ? 'running' : run.status.state;
    return {
      runId,
      state,
      createdAt: run.record.createdAt,
      model: run.record.config.model.name,
      loss: run.record.config.loss,
      dataset: run.record.dataset.root,
      epoch: run.status.epoch,
      epochs: run.record.config.epochs,
      testDice: run.summary?.test?.metrics.dice ?? null,
      classes: run.record.config.classes ?? 'lesion',
      dir: run.dir,
      ...(run.record.config.recipe ? { recipe: run.record.config.recipe.name } : {}),
      ...(run.record.config.model.name === 'segformer' ? { variant: String((run.record.config.model.options as { variant?: string } | undefined)?.variant ?? 'b0') } : {}),
      ...(run.status.error ? { message: run.status.error } : {}),
      ...(run.record.parent ? { parent: { runId: run.record.parent.runId, dir: run.record.parent.dir, epoch: run.record.parent.epoch } } : {}),
    };
  }

  async list(): Promise<RunListItem[]> {
    let names: string[] = [];
    try {
      names = await readdir(this.runsDir);
    } catch {
      return [];
    }
    const items: RunListItem[] = [];
    for (const name of names.sort().reverse()) {
      try {
        items.push(this.item(name, await readRun(join(this.runsDir, name))));
      } catch {
        // A folder being created or not a run: listed once it has a config.
      }
    }
    return items;
  }

  async get(runId: string): Promise<RunDetail> {
    const run = await readRun(this.dir(runId));
    return {
      ...this.item(runId, run),
      config: run.record.config as unknown as Record<string, unknown>,
      metrics: run.metrics.map((m) => ({ epoch: m.epoch, trainLoss: m.trainLoss, valLoss: m.valLoss, valDice: m.valDice, valIou: m.valIou })),
      test: run.summary?.test ? { loss: run.summary.test.loss, ...run.summary.test.metrics } : null,
      ...(run.summary?.test?.classes ? { classMetrics: run.summary.test.classes.classes.map((c): RunClassMetrics => ({ name: c.name, dice: c.dice, iou: c.iou, present: c.present })) } : {}),
      files: { dir: run.dir, ...(existsSync(join(run.dir, RUN_FILES.predictions)) ? { predictions: join(run.dir, RUN_FILES.predictions) } : {}) },
      backend: describeBackend(run.record.backend),
    };
  }

  /**
   * The run's folder, checked to be a real folder directly inside the runs folder: a symlink named
   * like a run could otherwise send a delete elsewhere.
   */
  private async ownFolder(runId: string): Promise<string> {
    const dir = this.dir(runId);
    let info;
    try {
      info = await lstat(dir);
    } catch {
      throw new CovsegError('not-found', `run ${runId} does not exist`, { file: dir, fix: 'refresh the runs list' });
    }
    if (info.isSymbolicLink() || !info.isDirectory() || !isInside(await realpath(this.runsDir), await realpath(dir))) {
      throw new CovsegError('bad-parameter', `run ${runId} is not a folder inside the runs folder`, { file: dir, fix: 'remove it by hand if it is yours' });
    }
    return dir;
  }

  /** Deletes a stopped run's folder; refused while it trains, waits in the queue, or another process holds its lock. */
  async delete(runId: string): Promise<{ deleted: boolean; dir: string }> {
    const dir = await this.ownFolder(runId);
    if ((this.options.hasJob ?? this.isTraining)(runId)) throw new CovsegError('busy', `run ${runId} is training or queued`, { file: dir, fix: 'cancel it first, then delete it' });
    await refuseLockedFolder(dir);
    await this.exclusive(async () => this.unload(runId));
    for (const key of this.scores.keys()) if (key.startsWith(`${runId}\0`)) this.scores.delete(key);
    await rm(dir, { recursive: true, force: true });
    return { deleted: true, dir };
  }

  /** Opens the run folder in the file manager where there is one (desktop); otherwise returns its path to show. */
  async openFolder(runId: string): Promise<{ dir: string; opened: boolean }> {
    const dir = await this.ownFolder(runId);
    if (!this.options.openPath) return { dir, opened: false };
    const problem = await this.options.openPath(dir);
    if (problem) throw new CovsegError('unsupported', `the folder could not be opened: ${problem}`, { file: dir, fix: 'open it by hand' });
    return { dir, opened: true };
  }

  /** Runs `use` after every model use queued before it (predictions of two panes arrive together). */
  private exclusive<T>(use: () => Promise<T>): Promise<T> {
    const result = this.queue.then(use);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The loaded run, loading it (and dropping the least recently used beyond LOADED_RUNS) if needed. Call inside `exclusive`. */
  private async model(runId: string): Promise<LoadedRun> {
    const cached = this.loaded.get(runId);
    if (cached) {
      this.loaded.delete(runId);
      this.loaded.set(runId, cached);
      return cached;
    }
    const run = await readRun(this.dir(runId));
    await selectBackend();
    const { model: trained } = await loadCheckpoint(run.dir, 'best');
    let engine: SegmentationEngine;
    try {
      engine = await openEngine(this.options.engine ?? 'auto', trained, run.record.config.model);
    } catch (error) {
      trained.dispose();
      throw error;
    }
    const splitOf = new Map<string, NonNullable<SliceScore['split']>>();
    for (const name of ['train', 'val', 'test'] as const) for (const id of run.record.split[name]) splitOf.set(id, name);
    const loaded: LoadedRun = {
      runId,
      trained,
      engine,
      size: run.record.config.size,
      threshold: run.record.config.threshold,
      task: taskOf(run.record.config),
      splitOf,
      dataset: { root: run.record.dataset.root, contentHash: run.record.dataset.contentHash },
    };
    this.loaded.set(runId, loaded);
    for (const old of this.loaded.keys()) if (this.loaded.size > LOADED_RUNS) this.unload(old);
    return loaded;
  }

  /** Disposes one loaded run, or all of them. Call inside `exclusive` (or when nothing predicts any more). */
  private unload(runId?: string): void {
    for (const [id, loaded] of this.loaded) {
      if (runId !== undefined && id !== runId) continue;
      loaded.engine.dispose();
      loaded.trained.dispose();
      this.loaded.delete(id);
    }
  }

  /** The mask (lesion runs) or class map (three-class runs) predicted for one slice, scored against the slice's truth. */
  private predictMask(runId: string, datasetId: string, sliceId: string): Promise<{ width: number; height: number; mask: Uint8Array; task: ClassTask; engine: string; score: SliceScore }> {
    return this.exclusive(async () => {
      const loaded = await this.model(runId);
      const open = this.datasets.entry(datasetId);
      const slice = await open.dataset.load(this.datasets.ref(datasetId, sliceId));
      const { classMap } = await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
      // A class map scores as any lesion here (sliceMetrics counts values > 0), comparable with binary runs.
      const m = sliceMetrics(sliceId, classMap, slice.mask, slice.width, slice.height);
      const score: SliceScore = { sliceId, dice: m.dice, iou: m.iou, truthPixels: m.truthPixels, predictedPixels: m.predictedPixels };
      // Splits are by slice id, which only means something on the dataset the run was trained on.
      const sameData = loaded.dataset.root === open.dataset.root || loaded.dataset.contentHash === open.contentHash;
      const split = sameData ? loaded.splitOf.get(sliceId) : undefined;
      if (split) score.split = split;
      if (loaded.task !== 'lesion' && slice.labels) {
        const perClass = multiClassSliceMetrics(sliceId, classMap, slice.labels, slice.width, slice.height, outputChannels(loaded.task)).classes;
        // A class absent from the truth has no Dice on this slice (the empty-class policy of the metrics).
        score.classDice = perClass.map((c) => (c.truthPixels > 0 ? c.dice : null));
      }
      return { width: slice.width, height: slice.height, mask: classMap, task: loaded.task, engine: loaded.engine.description, score };
    });
  }

  /** The run's probabilities of one slice at the slice's size (annotation: threshold slider, review queue). */
  probabilities(runId: string, datasetId: string, sliceId: string): Promise<SlicePrediction & { threshold: number }> {
    return this.exclusive(async () => {
      const loaded = await this.model(runId);
      const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
      const predicted = await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
      return { ...predicted, threshold: loaded.threshold };
    });
  }

  /** The run's predictions as a measurement source (engine/measure), at each slice's own size. */
  async predictor(runId: string): Promise<PredictMask> {
    const { task } = await this.exclusive(() => this.model(runId));
    // Each slice takes its turn in the queue and asks for the model again: another run may have been loaded meanwhile.
    return (slice) =>
      this.exclusive(async () => {
        const loaded = await this.model(runId);
        return { mask: (await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold)).classMap, classes: task !== 'lesion' };
      });
  }

  /** The run's prediction of one slice, with its Dice against the slice's truth and the slice's split in the run. */
  async prediction(runId: string, datasetId: string, sliceId: string): Promise<{ width: number; height: number; mask: string; classes: ClassTask; engine: string; score: SliceScore }> {
    const { width, height, mask, task, engine, score } = await this.predictMask(runId, datasetId, sliceId);
    return { width, height, mask: Buffer.from(mask).toString('base64'), classes: task, engine, score };
  }

  async sliceScores(runId: string, datasetId: string): Promise<SliceScore[]> {
    const key = `${runId}\0${datasetId}`;
    const cached = this.scores.get(key);
    if (cached) return cached;
    const scores: SliceScore[] = [];
    for (const item of this.datasets.list(datasetId)) scores.push((await this.predictMask(runId, datasetId, item.id)).score);
    this.scores.set(key, scores);
    return scores;
  }

  dispose(): void {
    this.unload();
  }
}
