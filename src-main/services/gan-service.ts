import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import type { GanListItem, GanProgress, GanSplitOption } from '../../src-shared/contract';
import type { ganTrainRequest } from '../../src-shared/contract/gan';
import type { SliceSummary } from '../engine/datasets/scan-dataset';
import { readSplit, splitDataset, writeSplit } from '../engine/datasets/split-dataset';
import type { Dataset } from '../engine/datasets/types';
import { processAlive } from '../engine/concurrency/process-alive';
import { CovsegError } from '../engine/errors';
import { writeJsonAtomic } from '../engine/files/atomic-write';
import { fileSha256, GAN_FILES, type GanRecord } from '../engine/gan/gan-record';
import type { GanEpochLog } from '../engine/gan/train-gan';
import { readMetrics, readStatus } from '../engine/runs/run-files';
import { isInside } from './file-access';
import { followLines, type FollowedFile } from './follow-lines';
import { nodeProcessLauncher, type ProcessLauncher } from './process-launcher';
import { isTrainingOf } from './training-service';

type ParsedGanRequest = z.output<typeof ganTrainRequest>;

const BATCH_EVENT_INTERVAL_MS = 125;
/** How often a training found after a restart (no exit event to wait for) is checked for life. */
const PID_POLL_MS = 1000;
/** The GAN trainings this service launched and their pids, so a restarted service follows them again. */
const GAN_JOBS_FILE = 'gan-jobs.json';
/** Batch losses kept per training for a window that opens mid-way (older ones are thinned out). */
const MAX_BATCH_POINTS = 2000;
const GAN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Progress lines `covseg gan train --progress-file` appends in the GAN folder. */
export const GAN_PROGRESS_FILE = 'progress.jsonl';

export interface GanServiceOptions {
  /** GAN folders (WORKSPACE/gans/ID). */
  gansDir: string;
  /** Split files made for GANs started without one (kept outside the GAN folders: they are its inputs). */
  splitsDir: string;
  /** Each training's output log (`ID.log`). */
  jobsDir: string;
  emit: (progress: GanProgress) => void;
  launcher?: ProcessLauncher;
  /** Resolves a chosen split file outside `splitsDir` when the app may read it (throws otherwise). */
  checkReadable?: (path: string) => Promise<string>;
}

/** The opened dataset a GAN trains on, with its scan (content hash) from when it was opened. */
export interface GanDataset {
  dataset: Dataset;
  summaries: SliceSummary[];
  contentHash: string;
}

interface Active {
  pid: number;
  tail: FollowedFile;
  /** The progress lines handled so far, in order. */
  lines: Promise<void>;
  lastPush: number;
  /** Set while a restarted service reads what was written before it came: recorded, not pushed again. */
  catchingUp: boolean;
  batchLosses: { x: number; gLoss: number; dLoss: number }[];
  timer?: NodeJS.Timeout;
}

interface GanJob {
  ganId: string;
  pid: number;
}

async function dataUrl(file: string): Promise<string | null> {
  try {
    return `data:image/png;base64,${(await readFile(file)).toString('base64')}`;
  } catch {
    return null;
  }
}

/**
 * Runs GAN trainings as detached `covseg gan train` processes, followed through their progress
 * file (as the training service follows `covseg train`), one at a time: a GAN step takes both cores.
 * A training outlives the server that launched it: `jobs/gan-jobs.json` names it and its pid, and
 * the next service on the workspace follows it again (losses, cancel) while that pid is still it.
 */
export class GanService {
  private readonly active = new Map<string, Active>();
  private readonly launcher: ProcessLauncher;
  private readonly ready: Promise<void>;
  private saving: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: GanServiceOptions) {
    this.launcher = options.launcher ?? nodeProcessLauncher;
    this.ready = this.restore();
  }

  /** Follows again the trainings a previous service launched that still run (a server restart). */
  private async restore(): Promise<void> {
    let stored: GanJob[] = [];
    try {
      stored = JSON.parse(await readFile(join(this.options.jobsDir, GAN_JOBS_FILE), 'utf8')) as GanJob[];
    } catch {
      // No jobs file yet, or an unreadable one: nothing to follow (GAN folders keep their own state).
    }
    for (const job of Array.isArray(stored) ? stored : []) {
      if (typeof job?.ganId !== 'string' || !GAN_ID.test(job.ganId) || typeof job.pid !== 'number') continue;
      if (this.disposed || !(await isTrainingOf(job.pid, job.ganId))) continue;
      const active = this.follow(job.ganId, job.pid, true);
      active.timer = setInterval(() => {
        if (!processAlive(job.pid)) void this.finish(job.ganId);
      }, PID_POLL_MS);
      active.timer.unref();
      // What was written while no service watched only fills the curve; new lines are pushed.
      await active.tail.flush();
      await active.lines;
      active.catchingUp = false;
    }
    await this.save();
  }

  private save(): Promise<void> {
    if (this.disposed) return this.saving;
    const jobs: GanJob[] = [...this.active.entries()].map(([ganId, active]) => ({ ganId, pid: active.pid }));
    this.saving = this.saving
      .then(async () => {
        await mkdir(this.options.jobsDir, { recursive: true });
        await writeJsonAtomic(join(this.options.jobsDir, GAN_JOBS_FILE), jobs);
      })
      .catch(() => undefined);
    return this.saving;
  }

  private progressFile(ganId: string): string {
    return join(this.options.jobsDir, `${ganId}.progress.jsonl`);
  }

  private follow(ganId: string, pid: number, catchingUp: boolean): Active {
    const active: Active = {
      pid,
      lastPush: 0,
      lines: Promise.resolve(),
      catchingUp,
      batchLosses: [],
      // In order: an epoch line reads its sample grid, and the end status must come after it.
      tail: followLines(this.progressFile(ganId), 0, (line) => {
        active.lines = active.lines.then(() => this.onLine(ganId, active, line)).catch(() => undefined);
      }),
    };
    this.active.set(ganId, active);
    return active;
  }

  /** A chosen split file, checked to be readable, a split, and made from this very data (content hash). */
  private async chosenSplit(file: string, data: GanDataset): Promise<string> {
    const absolute = resolve(file);
    const path = isInside(resolve(this.options.splitsDir), absolute) || !this.options.checkReadable ? absolute : await this.options.checkReadable(absolute);
    const split = await readSplit(path);
    if (split.dataset?.contentHash !== data.contentHash) {
      throw new CovsegError('bad-split', `the split file was made from other data than ${data.dataset.root} (its content hash differs)`, {
        file: path,
        fix: 'choose a split listed for this dataset, make one with `covseg split DATA`, or let the app make a new split',
      });
    }
    return path;
  }

  /** Split files in `splitsDir` made from this dataset (same content hash), newest first. */
  async listSplits(data: GanDataset): Promise<GanSplitOption[]> {
    const names = (await readdir(this.options.splitsDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
    const found: { option: GanSplitOption; mtime: number }[] = [];
    for (const name of names) {
      const file = join(this.options.splitsDir, name);
      try {
        const split = await readSplit(file);
        if (split.dataset?.contentHash !== data.contentHash) continue;
        const { mtime } = await stat(file);
        const slices = { train: split.slices.train.length, val: split.slices.val.length, test: split.slices.test.length };
        found.push({ option: { file, name, seed: split.seed, slices, sha256: await fileSha256(file), modifiedAt: mtime.toISOString() }, mtime: mtime.getTime() });
      } catch {
        // Not a split file (or being written): not offered.
      }
    }
    return found.sort((a, b) => b.mtime - a.mtime || a.option.name.localeCompare(b.option.name)).map((f) => f.option);
  }

  private ganDir(ganId: string): string {
    if (!GAN_ID.test(ganId)) throw new CovsegError('bad-parameter', `invalid GAN id "${ganId}"`, { fix: 'list GANs to see their ids' });
    return join(this.options.gansDir, ganId);
  }

  async startTraining(request: ParsedGanRequest, data: GanDataset): Promise<{ ganId: string }> {
    await this.ready;
    if (this.active.size > 0) {
      throw new CovsegError('busy', `GAN ${[...this.active.keys()][0]} is training`, { fix: 'wait for it to finish, or cancel it' });
    }
    const { dataset } = data;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const ganId = `${stamp}-${request.kind}-s${request.seed}-${Math.random().toString(36).slice(2, 6)}`;
    // The GAN's split: the chosen file (checked before anything is written), or one made here and kept
    // outside the GAN folder (an input); segmentation runs on its pairs must then use the same file.
    let splitFile: string;
    if (request.splitFile) splitFile = await this.chosenSplit(request.splitFile, data);
    else {
      splitFile = join(this.options.splitsDir, `gan-${ganId}.json`);
      const split = splitDataset(data.summaries, { root: dataset.root, format: dataset.format, contentHash: data.contentHash }, { val: request.val, test: request.test, seed: request.seed });
      await writeSplit(splitFile, split);
    }
    await mkdir(this.options.gansDir, { recursive: true });
    await mkdir(this.options.jobsDir, { recursive: true });
    const ganDir = this.ganDir(ganId);
    const progressFile = this.progressFile(ganId);
    const args = [
      'gan', 'train', '--data', dataset.root, '--split', splitFile, '--out', ganDir,
      '--kind', request.kind, '--preset', request.preset, '--seed', String(request.seed),
      ...(request.epochs !== undefined ? ['--epochs', String(request.epochs)] : []),
      ...(request.size !== undefined ? ['--size', String(request.size)] : []),
      ...(request.batch !== undefined ? ['--batch', String(request.batch)] : []),
      ...(request.filters !== undefined ? ['--filters', String(request.filters)] : []),
      '--progress-file', progressFile,
    ];
    const launched = await this.launcher(args, { logFile: join(this.options.jobsDir, `${ganId}.log`) });
    this.follow(ganId, launched.pid, false);
    await this.save();
    this.options.emit({ ganId, kind: 'status', state: 'running' });
    void launched.exited.then(() => this.finish(ganId));
    return { ganId };
  }

  private async onLine(ganId: string, active: Active, line: string): Promise<void> {
    let message: Record<string, number | string>;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'batch') {
      active.batchLosses.push({ x: Number(message.epoch) + (Number(message.batch) + 1) / Number(message.batches), gLoss: Number(message.gLoss), dLoss: Number(message.dLoss) });
      if (active.batchLosses.length > MAX_BATCH_POINTS) active.batchLosses = active.batchLosses.filter((_, k) => k % 2 === 0);
      if (active.catchingUp) return;
      const now = Date.now();
      if (now - active.lastPush < BATCH_EVENT_INTERVAL_MS && Number(message.batch) + 1 < Number(message.batches)) return;
      active.lastPush = now;
      this.options.emit({ ganId, kind: 'batch', epoch: Number(message.epoch) + 1, epochs: Number(message.epochs), batch: Number(message.batch) + 1, batches: Number(message.batches), gLoss: Number(message.gLoss), dLoss: Number(message.dLoss) });
    } else if (message.type === 'epoch' && !active.catchingUp) {
      const log = message as unknown as GanEpochLog & { epochs: number };
      this.options.emit({ ganId, kind: 'epoch', epoch: log.epoch, epochs: log.epochs, gLoss: log.gLoss, dLoss: log.dLoss, l1: log.l1, sampleGrid: await dataUrl(join(this.ganDir(ganId), log.samples)) });
    }
  }

  private async finish(ganId: string): Promise<void> {
    const active = this.active.get(ganId);
    if (!active || this.disposed) return;
    clearInterval(active.timer);
    await active.tail.flush();
    await active.lines;
    active.tail.stop();
    this.active.delete(ganId);
    await this.save();
    const dir = this.ganDir(ganId);
    let state: 'completed' | 'cancelled' | 'failed' = 'failed';
    let message: string | undefined;
    try {
      const status = await readStatus(dir);
      if (status.state !== 'running') state = status.state;
      message = status.error;
    } catch {
      const log = await readFile(join(this.options.jobsDir, `${ganId}.log`), 'utf8').catch(() => '');
      message = log.split('\n').filter((l) => l.startsWith('error:')).pop() ?? 'the GAN training ended before its first epoch';
    }
    this.options.emit({ ganId, kind: 'status', state, ...(message ? { message } : {}) });
  }

  async cancelTraining(ganId: string): Promise<{ cancelled: boolean }> {
    await this.ready;
    const active = this.active.get(ganId);
    if (!active) throw new CovsegError('not-found', `GAN ${ganId} is not training`, { fix: 'list GANs to see their state' });
    process.kill(active.pid, 'SIGINT');
    return { cancelled: true };
  }

  async listGans(): Promise<GanListItem[]> {
    await this.ready;
    const names = await readdir(this.options.gansDir).catch(() => [] as string[]);
    const items: GanListItem[] = [];
    for (const ganId of names.sort().reverse()) {
      const dir = join(this.options.gansDir, ganId);
      if (!existsSync(join(dir, GAN_FILES.record))) continue;
      try {
        const record = JSON.parse(await readFile(join(dir, GAN_FILES.record), 'utf8')) as GanRecord;
        const status = await readStatus(dir).catch(() => undefined);
        const losses = (await readMetrics<GanEpochLog>(dir)).map(({ epoch, gLoss, dLoss }) => ({ epoch, gLoss, dLoss }));
        const active = this.active.get(ganId);
        items.push({
          ganId,
          kind: record.kind,
          generation: record.generation,
          state: this.active.has(ganId) ? 'running' : (status?.state ?? 'unknown'),
          epoch: status?.epoch ?? 0,
          epochs: record.config.epochs,
          createdAt: record.createdAt,
          dataset: record.dataset.root,
          losses,
          split: { file: record.split.file, sha256: record.split.sha256 },
          ...(active ? { batchLosses: [...active.batchLosses] } : {}),
        });
      } catch {
        // A folder being written or damaged is left out of the list, not fatal to it.
      }
    }
    return items;
  }

  async sampleGrid(ganId: string): Promise<string | null> {
    const dir = this.ganDir(ganId);
    const files = (await readdir(join(dir, GAN_FILES.samples)).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).sort();
    return files.length ? dataUrl(join(dir, GAN_FILES.samples, files[files.length - 1]!)) : null;
  }

  /** Stops following (the trainings go on; their folders say how they ended). */
  dispose(): void {
    this.disposed = true;
    for (const active of this.active.values()) {
      clearInterval(active.timer);
      active.tail.stop();
    }
    this.active.clear();
  }
}
