import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isRunId, type RunDetail, type RunListItem, type SliceScore } from '../../src-shared/contract';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { multiClassSliceMetrics } from '../engine/metrics/class-metrics';
import { sliceMetrics } from '../engine/metrics/segmentation-metrics';
import { inferenceCopy } from '../engine/models/registry';
import { loadCheckpoint } from '../engine/runs/checkpoints';
import { readRun, type RunView } from '../engine/runs/read-run';
import { outputChannels, taskOf, type ClassTask } from '../engine/training/class-task';
import { predictSlice, predictSliceMask, type SlicePrediction } from '../engine/training/predict-mask';
import type { DatasetService } from './dataset-service';

/** Runs on disk: lists, details, and predictions of their best checkpoint on any open dataset. */
export class RunsService {
  /** The last run used for predictions: its trained model and the folded copy that predicts. */
  private loaded: { runId: string; trained: tfl.LayersModel; fast: tfl.LayersModel; release: () => void; size: number; threshold: number; task: ClassTask } | undefined;
  private readonly scores = new Map<string, SliceScore[]>();

  constructor(
    private readonly runsDir: string,
    private readonly datasets: DatasetService,
    private readonly isTraining: (runId: string) => boolean,
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
    const { model: fast, release } = inferenceCopy(trained, run.record.config.model);
    this.loaded = { runId, trained, fast, release, size: run.record.config.size, threshold: run.record.config.threshold, task: taskOf(run.record.config) };
    return this.loaded;
  }

  private unload(): void {
    this.loaded?.release();
    this.loaded?.trained.dispose();
    this.loaded = undefined;
  }

  /** The mask (lesion runs) or class map (three-class runs) predicted for one slice, with the slice's truth. */
  private async predictMask(
    runId: string,
    datasetId: string,
    sliceId: string,
  ): Promise<{ width: number; height: number; mask: Uint8Array; truth: Uint8Array; labels: Uint8Array | undefined; task: ClassTask }> {
    const loaded = await this.model(runId);
    const { fast } = loaded;
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
    const mask = await predictSliceMask(fast, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
    return { width: slice.width, height: slice.height, mask, truth: slice.mask, labels: slice.labels, task: loaded.task };
  }

  /** The run's probabilities of one slice at the slice's size (annotation: threshold slider, review queue). */
  async probabilities(runId: string, datasetId: string, sliceId: string): Promise<SlicePrediction & { threshold: number }> {
    const loaded = await this.model(runId);
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
    const predicted = await predictSlice(loaded.fast, { width: slice.width, height: slice.height, data: slice.image }, loaded.size, loaded.threshold);
    return { ...predicted, threshold: loaded.threshold };
  }

  async prediction(runId: string, datasetId: string, sliceId: string): Promise<{ width: number; height: number; mask: string; classes: ClassTask }> {
    const { width, height, mask, task } = await this.predictMask(runId, datasetId, sliceId);
    return { width, height, mask: Buffer.from(mask).toString('base64'), classes: task };
  }

  async sliceScores(runId: string, datasetId: string): Promise<SliceScore[]> {
    const key = `${runId}\0${datasetId}`;
    const cached = this.scores.get(key);
    if (cached) return cached;
    const scores: SliceScore[] = [];
    for (const item of this.datasets.list(datasetId)) {
      const { width, height, mask, truth, labels, task } = await this.predictMask(runId, datasetId, item.id);
      // A class map scores as any lesion here (sliceMetrics counts values > 0), comparable with binary runs.
      const m = sliceMetrics(item.id, mask, truth, width, height);
      const score: SliceScore = { sliceId: item.id, dice: m.dice, iou: m.iou, truthPixels: m.truthPixels, predictedPixels: m.predictedPixels };
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
