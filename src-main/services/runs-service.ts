import { existsSync } from 'node:fs';
import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isRunId, type RunClassMetrics, type RunDetail, type RunListItem, type SliceScore } from '../../src-shared/contract';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { multiClassSliceMetrics } from '../engine/metrics/class-metrics';
import { sliceMetrics } from '../engine/metrics/segmentation-metrics';
import { inferenceCopy } from '../engine/models/registry';
import { loadCheckpoint } from '../engine/runs/checkpoints';
import { RUN_FILES } from '../engine/runs/run-files';
import { refuseLockedFolder } from '../engine/runs/run-lock';
import { isInside } from './file-access';
import { readRun, type RunView } from '../engine/runs/read-run';
import { outputChannels, taskOf, type ClassTask } from '../engine/training/class-task';
import { predictSliceMask } from '../engine/training/predict-mask';
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
    /** True while the run trains or waits in the queue (such a run is never deleted). */
    private readonly hasJob: (runId: string) => boolean = isTraining,
    /** Opens a folder in the system's file manager (Electron's shell.openPath); absent in a browser. */
    private readonly openPath?: (path: string) => Promise<string>,
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
    if (this.hasJob(runId)) throw new CovsegError('busy', `run ${runId} is training or queued`, { file: dir, fix: 'cancel it first, then delete it' });
    await refuseLockedFolder(dir);
    if (this.loaded?.runId === runId) this.unload();
    for (const key of this.scores.keys()) if (key.startsWith(`${runId}\0`)) this.scores.delete(key);
    await rm(dir, { recursive: true, force: true });
    return { deleted: true, dir };
  }

  /** Opens the run folder in the file manager where there is one (desktop); otherwise returns its path to show. */
  async openFolder(runId: string): Promise<{ dir: string; opened: boolean }> {
    const dir = await this.ownFolder(runId);
    if (!this.openPath) return { dir, opened: false };
    const problem = await this.openPath(dir);
    if (problem) throw new CovsegError('unsupported', `the folder could not be opened: ${problem}`, { file: dir, fix: 'open it by hand' });
    return { dir, opened: true };
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
