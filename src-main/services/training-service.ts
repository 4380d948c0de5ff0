import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { RunListItem, TrainingLaunch, TrainingProgress } from '../../src-shared/contract';
import { TASK_DEFAULT_LOSS, type resumeRequest, type trainRequest } from '../../src-shared/contract/training';
import { CovsegError } from '../engine/errors';
import { writeJsonAtomic } from '../engine/files/atomic-write';
import { readRun } from '../engine/runs/read-run';
import { readStatus, RUN_FILES } from '../engine/runs/run-files';
import { followLines, type FollowedFile } from './follow-lines';
import { nodeProcessLauncher, type ProcessLauncher } from './process-launcher';
import { processAlive } from '../engine/concurrency/process-alive';
import { resolveInitFrom } from '../engine/training/init-from-run';
import { resolveTrainConfig } from '../engine/training/train-config';

type ParsedTrainRequest = z.output<typeof trainRequest>;
type ParsedResumeRequest = z.output<typeof resumeRequest>;

/** Pushes of batch progress at most this often (tfjs-layers' callbacks throttle the same way). */
const BATCH_EVENT_INTERVAL_MS = 125;
/** How often a training this service did not launch itself (found after a restart) is checked for life. */
const PID_POLL_MS = 1000;
/** Progress lines the training appends to its run folder (`covseg train --progress-file`). */
export const PROGRESS_FILE = 'progress.jsonl';
const JOBS_FILE = 'jobs.json';
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A training the service is responsible for, as stored in `jobs.json` so a restarted server finds it. */
interface Job {
  runId: string;
  /** `covseg` arguments, without the progress file (added at launch). */
  args: string[];
  /** What the runs list shows before the run folder exists. */
  summary: { createdAt: string; model: string; loss: string; dataset: string; epochs: number };
  state: 'queued' | 'running';
  pid?: number;
}

interface Followed {
  tail: FollowedFile;
  timer?: NodeJS.Timeout;
  begin?: { epoch: number; epochs: number; batches: number; time: number };
  lastPush: number;
}

export interface TrainingServiceOptions {
  runsDir: string;
  /** The queue (`jobs.json`) and each training's output log (`RUNID.log`). */
  jobsDir: string;
  emit: (progress: TrainingProgress) => void;
  /** Trainings at once; more wait in the queue (default 1: trainings share the machine's cores). */
  maxConcurrent?: number;
  /** How `covseg train` is started (default: a detached Node child process). */
  launcher?: ProcessLauncher;
}

/** A live pid that is this run's training: on Linux its command line names the run (pids are reused). */
export async function isTrainingOf(pid: number, runId: string): Promise<boolean> {
  if (!processAlive(pid)) return false;
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(runId);
  } catch {
    return true;
  }
}

function trainArgs(request: ParsedTrainRequest & { loss: string }, datasetRoot: string, runDir: string, initFrom?: string): string[] {
  return [
    'train',
    '--data', datasetRoot, '--out', runDir,
    '--model', request.model, '--loss', request.loss,
    '--epochs', String(request.epochs), '--size', String(request.size), '--batch', String(request.batch),
    '--lr', String(request.lr), '--seed', String(request.seed),
    '--depth', String(request.depth), '--base-filters', String(request.baseFilters),
    '--val', String(request.val), '--test', String(request.test),
    ...(request.recipe ? ['--recipe', request.recipe] : []),
    '--classes', request.classes,
    ...(request.model === 'segformer' && request.variant ? ['--variant', request.variant] : []),
    ...(initFrom ? ['--init-from', initFrom] : []),
  ];
}

/** A job's arguments with its run folder blanked, to compare what two trainings would do. */
function withoutOut(args: string[]): string[] {
  const k = args.indexOf('--out');
  return k < 0 ? args : [...args.slice(0, k + 1), '', ...args.slice(k + 2)];
}

/**
 * Runs trainings as `covseg train` processes: off the UI thread, at most `maxConcurrent` at once
 * (the rest queue, first come first served), cancellable (SIGINT stops after the current batch,
 * leaving a resumable run) and resumable. Trainings are detached from this process: progress comes
 * from the run folder's `progress.jsonl`, not a pipe, so a training outlives a server restart and
 * the next service re-attaches to it from `jobs.json`.
 */
export class TrainingService {
  private jobs: Job[] = [];
  private readonly followed = new Map<string, Followed>();
  private readonly maxConcurrent: number;
  private readonly launcher: ProcessLauncher;
  private readonly ready: Promise<void>;
  private pumping: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: TrainingServiceOptions) {
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 1);
    this.launcher = options.launcher ?? nodeProcessLauncher;
    this.ready = this.restore();
  }

  private runDir(runId: string): string {
    if (!RUN_ID.test(runId)) throw new CovsegError('bad-parameter', `invalid run id "${runId}"`, { fix: 'list runs to see their ids' });
    return join(this.options.runsDir, runId);
  }

  /** Picks up what a previous service left: queued jobs wait on, live trainings are followed again. */
  private async restore(): Promise<void> {
    await mkdir(this.options.jobsDir, { recursive: true });
    let stored: Job[] = [];
    try {
      stored = JSON.parse(await readFile(join(this.options.jobsDir, JOBS_FILE), 'utf8')) as Job[];
    } catch {
      // No jobs file yet, or an unreadable one: nothing to pick up (run folders keep their own state).
    }
    for (const job of Array.isArray(stored) ? stored : []) {
      if (job.state === 'queued') this.jobs.push(job);
      else if (job.pid !== undefined && (await isTrainingOf(job.pid, job.runId))) {
        this.jobs.push(job);
        this.follow(job);
      }
      // A training that ended while no service watched it is finished: its run folder says how.
    }
    await this.save();
    void this.pump();
  }

  private save(): Promise<void> {
    if (this.disposed) return this.saving;
    const snapshot = this.jobs.map((job) => ({ ...job }));
    this.saving = this.saving.then(() => writeJsonAtomic(join(this.options.jobsDir, JOBS_FILE), snapshot)).catch(() => undefined);
    return this.saving;
  }

  private queued(): Job[] {
    return this.jobs.filter((job) => job.state === 'queued');
  }

  private launchInfo(runId: string): TrainingLaunch {
    const position = this.queued().findIndex((job) => job.runId === runId);
    return position >= 0 ? { runId, state: 'queued', position: position + 1 } : { runId, state: 'running' };
  }

  /** Queues a new training and starts it when a slot is free. */
  async start(parsed: ParsedTrainRequest, datasetRoot: string): Promise<TrainingLaunch> {
    await this.ready;
    const request = { ...parsed, loss: parsed.loss ?? TASK_DEFAULT_LOSS[parsed.classes] };
    const initFrom = request.initFromRun ? await this.checkParent(request, datasetRoot) : undefined;
    // A double click, or a second window, would otherwise train the same thing twice into the runs folder.
    const same = trainArgs(request, datasetRoot, '', initFrom).join('\0');
    const twin = this.jobs.find((job) => withoutOut(job.args).join('\0') === same);
    if (twin) {
      throw new CovsegError('busy', `an identical training is already ${twin.state === 'queued' ? 'queued' : 'running'}: ${twin.runId}`, {
        fix: 'watch that run, or change a setting (a different seed, say) to train another',
      });
    }
    await mkdir(this.options.runsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const runId = `${stamp}-${request.model}-${request.loss.replace('+', '-')}-s${request.seed}-${Math.random().toString(36).slice(2, 6)}`;
    return this.enqueue({
      runId,
      args: trainArgs(request, datasetRoot, join(this.options.runsDir, runId), initFrom),
      summary: { createdAt: new Date().toISOString(), model: request.model, loss: request.loss, dataset: datasetRoot, epochs: request.epochs },
      state: 'queued',
    });
  }

  /**
   * The folder of the run a fine-tuning starts from, checked now (the engine's own check) so a
   * mismatch is refused with its fix instead of launching a training that fails at once.
   */
  private async checkParent(request: ParsedTrainRequest & { loss: string }, datasetRoot: string): Promise<string> {
    const initFrom = this.runDir(request.initFromRun!);
    if (this.hasJob(request.initFromRun!)) {
      throw new CovsegError('busy', `run ${request.initFromRun} is still training or queued`, { file: initFrom, fix: 'wait for it to finish, then fine-tune from it' });
    }
    const config = resolveTrainConfig({
      data: datasetRoot,
      model: { name: request.model, options: { depth: request.depth, baseFilters: request.baseFilters, ...(request.model === 'segformer' && request.variant ? { variant: request.variant } : {}) } },
      classes: request.classes,
      loss: request.loss,
      size: request.size,
      initFrom,
    });
    await resolveInitFrom(config);
    return initFrom;
  }

  /** Queues the continuation of a stopped run from its last checkpoint (optionally to more epochs). */
  async resume(request: ParsedResumeRequest): Promise<TrainingLaunch> {
    await this.ready;
    const dir = this.runDir(request.runId);
    if (this.jobs.some((job) => job.runId === request.runId)) {
      throw new CovsegError('bad-parameter', `run ${request.runId} is already ${this.isActive(request.runId) ? 'training' : 'queued'}`, { fix: 'wait for it to end, or cancel it' });
    }
    const run = await readRun(dir);
    const epochs = request.epochs ?? run.record.config.epochs;
    if (run.status.state === 'running') {
      throw new CovsegError('bad-parameter', `run ${request.runId} is being trained by process ${run.status.pid ?? '?'}`, { file: dir, fix: 'wait for it to end, or stop that process' });
    }
    // A completed run is extended only on request: its stored epoch target may predate an earlier extension.
    if (run.status.state === 'completed' && (request.epochs === undefined || epochs <= run.status.epoch)) {
      throw new CovsegError('bad-parameter', `run ${request.runId} is complete (${run.status.epoch} epochs)`, { file: dir, fix: `give more epochs than ${run.status.epoch} to train it further` });
    }
    return this.enqueue({
      runId: request.runId,
      args: ['train', '--data', run.record.config.data, '--out', dir, '--resume', ...(request.epochs !== undefined ? ['--epochs', String(request.epochs)] : [])],
      summary: { createdAt: run.record.createdAt, model: run.record.config.model.name, loss: run.record.config.loss, dataset: run.record.dataset.root, epochs },
      state: 'queued',
    });
  }

  private async enqueue(job: Job): Promise<TrainingLaunch> {
    this.jobs.push(job);
    await this.save();
    this.emitQueue();
    await this.pump();
    return this.launchInfo(job.runId);
  }

  /** Tells every queued run its place in line. */
  private emitQueue(): void {
    this.queued().forEach((job, k) => this.options.emit({ runId: job.runId, kind: 'status', state: 'queued', position: k + 1 }));
  }

  /** Starts queued jobs while slots are free; one pass at a time so two events never take one slot twice. */
  private pump(): Promise<void> {
    this.pumping = this.pumping.then(async () => {
      while (!this.disposed && this.jobs.filter((job) => job.state === 'running').length < this.maxConcurrent) {
        const job = this.queued()[0];
        if (!job) break;
        await this.launch(job);
      }
    });
    return this.pumping;
  }

  private async launch(job: Job): Promise<void> {
    const logFile = join(this.options.jobsDir, `${job.runId}.log`);
    const progressFile = join(this.options.runsDir, job.runId, PROGRESS_FILE);
    // A resumed run appends to its progress file: follow only what this launch writes.
    const offset = existsSync(progressFile) ? (await stat(progressFile)).size : 0;
    try {
      const launched = await this.launcher([...job.args, '--progress-file', progressFile], { logFile });
      job.state = 'running';
      job.pid = launched.pid;
      await this.save();
      this.options.emit({ runId: job.runId, kind: 'status', state: 'running' });
      this.emitQueue();
      this.follow(job, offset, launched.exited);
    } catch (error) {
      this.jobs = this.jobs.filter((other) => other !== job);
      await this.save();
      this.options.emit({ runId: job.runId, kind: 'status', state: 'failed', message: `the training process could not start: ${(error as Error).message}` });
    }
  }

  /** Follows a running job's progress file until its process ends (the exit event, or its pid polled). */
  private follow(job: Job, offset = 0, exited?: Promise<unknown>): void {
    const progressFile = join(this.options.runsDir, job.runId, PROGRESS_FILE);
    const followed: Followed = { tail: followLines(progressFile, offset, (line) => this.onLine(job.runId, followed, line)), lastPush: 0 };
    this.followed.set(job.runId, followed);
    if (exited) void exited.then(() => this.finish(job));
    else {
      followed.timer = setInterval(() => {
        if (!processAlive(job.pid!)) void this.finish(job);
      }, PID_POLL_MS);
      followed.timer.unref();
    }
  }

  private async finish(job: Job): Promise<void> {
    const followed = this.followed.get(job.runId);
    if (!followed || this.disposed) return;
    this.followed.delete(job.runId);
    clearInterval(followed.timer);
    await followed.tail.flush();
    followed.tail.stop();
    const outcome = await this.outcome(job);
    this.jobs = this.jobs.filter((other) => other !== job);
    await this.save();
    this.options.emit({ runId: job.runId, kind: 'status', ...outcome });
    await this.pump();
  }

  /** How an ended training finished, from its run folder (or its log when it never made one). */
  private async outcome(job: Job): Promise<{ state: 'completed' | 'cancelled' | 'failed'; message?: string }> {
    const runDir = join(this.options.runsDir, job.runId);
    if (existsSync(join(runDir, RUN_FILES.status))) {
      try {
        const status = await readStatus(runDir);
        if (status.state !== 'running') return { state: status.state, ...(status.error ? { message: status.error } : {}) };
      } catch {
        // An unreadable status falls through to the log.
      }
    }
    let log = '';
    try {
      log = await readFile(join(this.options.jobsDir, `${job.runId}.log`), 'utf8');
    } catch {
      // No log: the generic message below.
    }
    const error = log.split('\n').filter((line) => line.startsWith('error:')).pop();
    return { state: 'failed', message: error ?? `the training process ended without finishing (its output: ${join(this.options.jobsDir, `${job.runId}.log`)})` };
  }

  private onLine(runId: string, followed: Followed, line: string): void {
    let message: Record<string, number | string>;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'begin') {
      followed.begin = { epoch: Number(message.epoch), epochs: Number(message.epochs), batches: Number(message.batches), time: Number(message.time) || Date.now() };
    } else if (message.type === 'batch') {
      const now = Date.now();
      const last = Number(message.batch) + 1 === Number(message.batches);
      if (now - followed.lastPush < BATCH_EVENT_INTERVAL_MS && !last) return;
      followed.lastPush = now;
      const begin = followed.begin;
      const done = begin ? (Number(message.epoch) - begin.epoch) * begin.batches + Number(message.batch) + 1 : 0;
      const total = begin ? (begin.epochs - begin.epoch) * begin.batches : 0;
      this.options.emit({
        runId,
        kind: 'batch',
        epoch: Number(message.epoch) + 1,
        epochs: Number(message.epochs),
        batch: Number(message.batch) + 1,
        batches: Number(message.batches),
        loss: Number(message.loss),
        etaSeconds: begin && done > 0 ? Math.max(0, ((now - begin.time) / done) * (total - done)) / 1000 : null,
      });
    } else if (message.type === 'phase') {
      const phase = String(message.phase);
      if (phase === 'scan' || phase === 'decode' || phase === 'validation' || phase === 'test') this.options.emit({ runId, kind: 'phase', phase, done: Number(message.done), total: Number(message.total) });
    } else if (message.type === 'epoch') {
      const nullable = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      this.options.emit({ runId, kind: 'epoch', epoch: Number(message.epoch), epochs: Number(message.epochs), trainLoss: Number(message.trainLoss), valLoss: nullable(message.valLoss), valDice: nullable(message.valDice), valIou: nullable(message.valIou) });
    }
  }

  /** Cancels a training (it stops after the current batch and stays resumable) or takes a run off the queue. */
  async cancel(runId: string): Promise<{ cancelled: boolean }> {
    await this.ready;
    const job = this.jobs.find((other) => other.runId === runId);
    if (!job) throw new CovsegError('not-found', `run ${runId} is not training or queued`, { fix: 'list runs to see their state' });
    if (job.state === 'queued') {
      this.jobs = this.jobs.filter((other) => other !== job);
      await this.save();
      this.options.emit({ runId, kind: 'status', state: 'cancelled', message: 'taken off the queue before it started' });
      this.emitQueue();
      return { cancelled: true };
    }
    process.kill(job.pid!, 'SIGINT');
    return { cancelled: true };
  }

  /** True while the run trains or waits in the queue. */
  hasJob(runId: string): boolean {
    return this.jobs.some((job) => job.runId === runId);
  }

  isActive(runId: string): boolean {
    return this.jobs.some((job) => job.runId === runId && job.state === 'running');
  }

  /**
   * The runs list with the queue laid over it: queued runs (with their place) and launched runs that
   * have no run folder yet, which the folder listing cannot show.
   */
  async withJobs(items: RunListItem[]): Promise<RunListItem[]> {
    await this.ready;
    const queue = this.queued();
    const listed = new Map(items.map((item) => [item.runId, item]));
    const unlisted: RunListItem[] = [];
    for (const job of this.jobs) {
      const position = queue.indexOf(job) + 1;
      const overlay = job.state === 'queued' ? { state: 'queued' as const, queuePosition: position } : { state: 'running' as const };
      const item = listed.get(job.runId);
      if (item) listed.set(job.runId, { ...item, ...overlay });
      else unlisted.push({ runId: job.runId, ...overlay, ...job.summary, epoch: 0, testDice: null });
    }
    return [...unlisted.reverse(), ...items.map((item) => listed.get(item.runId)!)];
  }

  /**
   * Stops following trainings without stopping them (the server or app is going away): they finish
   * on their own, and the next service started on this workspace picks them up again.
   */
  dispose(): void {
    this.disposed = true;
    for (const followed of this.followed.values()) {
      clearInterval(followed.timer);
      followed.tail.stop();
    }
    this.followed.clear();
  }
}
