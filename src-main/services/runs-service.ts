import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isRunId, type RunDetail, type RunListItem, type SliceScore } from '../../src-shared/contract';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { multiClassSliceMetrics } from '../engine/metrics/class-metrics';
import { sliceMetrics } from '../engine/metrics/segmentation-metrics';
import { openEngine, type EngineChoice, type SegmentationEngine } from '../engine/onnx/segmentation-engine';
import { loadCheckpoint } from '../engine/runs/checkpoints';
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
    /** Which engine predicts overlays: `auto` takes ONNX Runtime when onnxruntime-node loads. */
    private readonly engineChoice: EngineChoice = 'auto',
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
      backend: describeBackend(run.record.backend),
    };
  }

  private async model(runId: string) {
    if (this.loaded?.runId === runId) return this.loaded;
    this.unload();
    const run = await readRun(this.dir(runId));
    await selectBackend();
    const { model: trained } = await loadCheckpoint(run.dir, 'best');
    let engine: SegmentationEngine;
    try {
      engine = await openEngine(this.engineChoice, trained, run.record.config.model);
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
