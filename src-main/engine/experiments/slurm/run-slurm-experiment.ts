import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../files/atomic-write';
import { acquireFolderLock } from '../../runs/run-lock';
import type { ExperimentSpec } from '../experiment-file';
import type { ExperimentCell } from '../expand-grid';
import { EXPERIMENT_FILES, readCompletedSummary, runDirOf, writeExperimentState, type ExperimentState } from '../experiment-state';
import { clearEmptyStart, lastErrorLine, prepareExperiment, type ExperimentOutcome, type ExperimentProgress } from '../run-experiment';
import { cellLogFile, sbatchScript, slurmLogFile, type SlurmOptions } from './sbatch-script';
import { cancelJobs, finishedTaskInfo, interruptJobs, queuedTasks, submitBatch, type QueuedTask } from './slurm-commands';

export interface RunSlurmExperimentOptions {
  expDir: string;
  slurm: SlurmOptions;
  /** Seconds between two looks at the queue (squeue); default 10. */
  pollSeconds?: number;
  /** After a cancel, seconds to wait for running tasks to checkpoint and leave before `scancel` ends them; default 60. */
  graceSeconds?: number;
  /** Abort: cancel the jobs (tasks checkpoint first). */
  signal?: AbortSignal;
  /** Abort during a cancel: end the jobs at once. */
  forceSignal?: AbortSignal;
  onProgress?: (progress: ExperimentProgress) => void;
  onMessage?: (line: string) => void;
}

export interface SlurmExperimentOutcome extends ExperimentOutcome {
  /** Cells found still in Slurm's queue from an earlier `run` and followed again. */
  reattached: number;
  /** Job ids submitted by this invocation. */
  submitted: string[];
}

const RUNNING_STATES = new Set(['RUNNING', 'COMPLETING', 'CONFIGURING', 'STAGE_OUT']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    if (signal?.aborted) return resolveSleep();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolveSleep();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const jobOf = (taskId: string) => taskId.split('_')[0]!;

/**
 * Runs the unfinished cells of an experiment on Slurm: one job array per submission (task i = cell i),
 * followed with squeue until every task has left the queue; results land in the run folders under
 * EXPDIR (a file system the nodes share), exactly as with the local executor. The task id of each
 * cell is written to experiment.json right after `sbatch` answers, so a restarted `run` re-attaches
 * to tasks still queued or running instead of submitting them twice. Holds the folder's lock while
 * it follows the jobs (the jobs themselves write only their own run folders and logs).
 */
export async function runSlurmExperiment(spec: ExperimentSpec, options: RunSlurmExperimentOptions): Promise<SlurmExperimentOutcome> {
  const expDir = resolve(options.expDir);
  const pollMs = (options.pollSeconds ?? 10) * 1000;
  const signal = options.signal ?? new AbortController().signal;
  const say = (line: string) => options.onMessage?.(line);
  const lock = await acquireFolderLock(expDir, 'covseg experiment run --executor slurm');
  try {
    const { state, pending, split } = await prepareExperiment(spec, expDir, say);
    await mkdir(join(expDir, EXPERIMENT_FILES.logs), { recursive: true });
    const skipped = state.cells.length - pending.length;
    const save = () => writeExperimentState(expDir, state);

    // Re-attach: a cell whose recorded task is still in the queue is followed, not submitted again.
    let queue = await queuedTasks();
    const watching = new Map<string, string>();
    const toSubmit: ExperimentCell[] = [];
    for (const cell of pending) {
      const record = state.records[cell.id]!;
      if (record.slurmTask && queue.has(record.slurmTask)) {
        record.state = 'running';
        watching.set(cell.id, record.slurmTask);
      } else {
        if (record.slurmTask) say(`cell ${cell.id}: Slurm task ${record.slurmTask} ended while no covseg followed it, without a completed run; submitting it again`);
        toSubmit.push(cell);
      }
    }
    const reattached = watching.size;
    if (reattached > 0) say(`re-attached to ${reattached} cell(s) still in Slurm's queue (job ${[...new Set([...watching.values()].map(jobOf))].join(', ')})`);

    const submitted: string[] = [];
    if (toSubmit.length > 0 && !signal.aborted) {
      for (const cell of toSubmit) await clearEmptyStart(runDirOf(expDir, cell.id));
      const jobs = state.slurmJobs ?? [];
      const script = join(expDir, 'slurm', `${spec.name}-${jobs.length + 1}.sbatch`);
      await writeFileAtomic(script, sbatchScript(spec, toSubmit, expDir, split.file, options.slurm));
      const jobId = await submitBatch(script, expDir);
      submitted.push(jobId);
      // Recorded before anything else, so a kill from here on re-attaches instead of submitting twice.
      const now = new Date().toISOString();
      state.slurmJobs = [...jobs, { id: jobId, script, submittedAt: now, cells: toSubmit.map((c) => c.id) }];
      toSubmit.forEach((cell, index) => {
        const record = state.records[cell.id]!;
        const task = `${jobId}_${index}`;
        Object.assign(record, { state: 'running', attempts: record.attempts + 1, startedAt: now, slurmTask: task });
        delete record.error;
        watching.set(cell.id, task);
      });
      await save();
      say(`submitted Slurm job ${jobId}: ${toSubmit.length} array task(s) (sbatch ${script}); logs in ${join(expDir, EXPERIMENT_FILES.logs)}`);
    }

    let ran = 0;
    let failed = 0;
    const durations: number[] = [];
    const report = (tasks: Map<string, QueuedTask>) => {
      const records = Object.values(state.records);
      const done = records.filter((r) => r.state === 'done').length;
      const failedNow = records.filter((r) => r.state === 'failed').length;
      const active = [...watching.values()].map((task) => tasks.get(task));
      const running = active.filter((t) => t && RUNNING_STATES.has(t.state)).length;
      const left = state.cells.length - done - failedNow;
      const mean = durations.length ? durations.reduce((s, d) => s + d, 0) / durations.length : null;
      options.onProgress?.({ total: state.cells.length, done, running, failed: failedNow, queued: watching.size - running, etaSeconds: mean === null ? null : (mean * left) / Math.max(1, running) });
    };

    /** A task left the queue: its run folder says whether the cell finished. */
    const settle = async (cellId: string, task: string): Promise<void> => {
      watching.delete(cellId);
      const record = state.records[cellId]!;
      const summary = await readCompletedSummary(runDirOf(expDir, cellId)).catch(() => undefined);
      if (summary) {
        Object.assign(record, { state: 'done', finishedAt: new Date().toISOString(), seconds: summary.timings.totalSeconds });
        durations.push(summary.timings.totalSeconds);
        ran++;
        return;
      }
      if (signal.aborted) {
        record.state = 'pending';
        return;
      }
      const info = await finishedTaskInfo(task);
      const log = cellLogFile(expDir, cellId);
      const line = await lastErrorLine(log);
      const ending = info ? `${info.state}${info.exitCode ? `, exit ${info.exitCode}` : ''}${info.reason && info.reason !== 'None' ? `, ${info.reason}` : ''}` : 'left the queue';
      const error = `Slurm task ${task} ${ending}${line ? `: ${line}` : ''} (log ${log}; Slurm's log ${slurmLogFile(expDir, spec.name, task)})`;
      Object.assign(record, { state: 'failed', finishedAt: new Date().toISOString(), error });
      failed++;
      say(`cell ${cellId} failed: ${error}`);
    };

    report(queue);
    let queueErrors = 0;
    while (watching.size > 0 && !signal.aborted) {
      await sleep(pollMs, signal);
      if (signal.aborted) break;
      try {
        queue = await queuedTasks();
        queueErrors = 0;
      } catch (error) {
        // slurmctld busy or restarting: keep following, unless it stays away.
        if (++queueErrors >= 6) throw error;
        say(`squeue did not answer (${(error as Error).message}); trying again`);
        continue;
      }
      let changed = false;
      for (const [cellId, task] of [...watching]) {
        if (queue.has(task)) continue;
        await settle(cellId, task);
        changed = true;
      }
      if (changed) await save();
      report(queue);
    }

    if (signal.aborted && watching.size > 0) await cancelWatched(state, watching, expDir, options, settle);
    await save();
    return { state, skipped, ran, failed, cancelled: signal.aborted, reattached, submitted };
  } finally {
    await lock.release();
  }
}

/** Cancels the followed tasks: running ones checkpoint and stop, queued ones are removed; `scancel` ends what is left after the grace time. */
async function cancelWatched(state: ExperimentState, watching: Map<string, string>, expDir: string, options: RunSlurmExperimentOptions, settle: (cellId: string, task: string) => Promise<void>): Promise<void> {
  const say = (line: string) => options.onMessage?.(line);
  const jobs = [...new Set([...watching.values()].map(jobOf))];
  say(`cancelling Slurm job ${jobs.join(', ')}: running cells save a checkpoint after their current batch, queued cells are removed (Ctrl-C again to end them at once) ...`);
  await interruptJobs(jobs);
  const deadline = Date.now() + (options.graceSeconds ?? 60) * 1000;
  const force = options.forceSignal;
  while (watching.size > 0 && Date.now() < deadline && !force?.aborted) {
    const queue = await queuedTasks().catch(() => undefined);
    if (queue) for (const [cellId, task] of [...watching]) if (!queue.has(task)) await settle(cellId, task);
    if (watching.size > 0) await sleep(1000, force);
  }
  if (watching.size > 0) {
    await cancelJobs(jobs).catch((error: Error) => say(`scancel failed: ${error.message}`));
    for (const [cellId, task] of [...watching]) await settle(cellId, task);
  }
  for (const record of Object.values(state.records)) if (record.state === 'running') record.state = 'pending';
  say(`cancelled Slurm job ${jobs.join(', ')}; run the same command again to submit the unfinished cells (they resume from their checkpoints): ${expDir}`);
}
