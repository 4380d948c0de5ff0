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

/** Runs on disk: lists, details, and predictions of their best checkpoint on any open dataset. */
export class RunsService {
  /** The last run used for predictions: its trained model and the engine that predicts (ONNX Runtime when it loads, else tfjs). */
  private loaded: { runId: string; trained: tfl.LayersModel; engine: SegmentationEngine; size: number; threshold: number; task: ClassTask } | undefined;
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
    if (this.loaded?.runId === runId) this.unload();
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

  private async model(runId: string) {
    if (this.loaded?.runId === runId) return this.loaded;
    this.unload();
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
    this.loaded = { runId, trained, engine, size: run.record.config.size, threshold: run.record.config.threshold, task: taskOf(run.record.config) };
    return this.loaded;
  }

  private unload(): void {
    this.loaded?.engine.dispose();
    this.loaded?.trained.dispose();
    this.loaded = undefined;
  }

  /** The mask (lesion runs) or class map (three-class runs) predicted for one slice, with the slice's truth. */
  private async predictMask(
    runId: string,
    datasetId: string,
    sliceId: string,
  ): Promise<{ width: number; height: number; mask: Uint8Array; truth: Uint8Array; labels: Uint8Array | undefined; task: ClassTask; engine: string }> {
    const loaded = await this.model(runId);
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
    const { classMap } = await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
    return { width: slice.width, height: slice.height, mask: classMap, truth: slice.mask, labels: slice.labels, task: loaded.task, engine: loaded.engine.description };
  }

  /** The run's probabilities of one slice at the slice's size (annotation: threshold slider, review queue). */
  async probabilities(runId: string, datasetId: string, sliceId: string): Promise<SlicePrediction & { threshold: number }> {
    const loaded = await this.model(runId);
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
    const predicted = await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
    return { ...predicted, threshold: loaded.threshold };
  }

  /** The run's predictions as a measurement source (engine/measure), at each slice's own size. */
  async predictor(runId: string): Promise<PredictMask> {
    const loaded = await this.model(runId);
    return async (slice) => ({ mask: (await predictSliceWithEngine(loaded.engine, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold)).classMap, classes: loaded.task !== 'lesion' });
  }

  async prediction(runId: string, datasetId: string, sliceId: string): Promise<{ width: number; height: number; mask: string; classes: ClassTask; engine: string }> {
    const { width, height, mask, task, engine } = await this.predictMask(runId, datasetId, sliceId);
    return { width, height, mask: Buffer.from(mask).toString('base64'), classes: task, engine };
  }

  async sliceScores(runId: string, datasetId: string): Promise<SliceScore[]> {
    const key = `${runId}\0${datasetId}`;
    const cached = this.scores.get(key);
    if (cached) return cached;
    const { record } = await readRun(this.dir(runId));
    const splitOf = new Map<string, SliceScore['split']>();
    for (const name of ['train', 'val', 'test'] as const) for (const id of record.split[name]) splitOf.set(id, name);
    const open = this.datasets.entry(datasetId);
    const sameData = record.dataset.root === open.dataset.root || record.dataset.contentHash === open.contentHash;
    const scores: SliceScore[] = [];
    for (const item of this.datasets.list(datasetId)) {
      const { width, height, mask, truth, labels, task } = await this.predictMask(runId, datasetId, item.id);
      // A class map scores as any lesion here (sliceMetrics counts values > 0), comparable with binary runs.
      const m = sliceMetrics(item.id, mask, truth, width, height);
      const score: SliceScore = { sliceId: item.id, dice: m.dice, iou: m.iou, truthPixels: m.truthPixels, predictedPixels: m.predictedPixels };
      // Splits are by slice id, which only means something on the dataset the run was trained on.
      const split = sameData ? splitOf.get(item.id) : undefined;
      if (split) score.split = split;
      if (task !== 'lesion' && labels) {
        const perClass = multiClassSliceMetrics(item.id, mask, labels, width, height, outputChannels(task)).classes;
        // A class absent from the truth has no Dice on this slice (the empty-class policy of the metrics).
        score.classDice = perClass.map((c) => (c.truthPixels > 0 ? c.dice : null));
      }
      scores.push(score);
    }
    this.scores.set(key, scores);
    return scores;
  }

  dispose(): void {
    this.unload();
  }
}
