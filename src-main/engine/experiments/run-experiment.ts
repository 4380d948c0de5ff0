import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { CovsegError } from '../errors';
import { acquireFolderLock, LOCK_FILE } from '../runs/run-lock';
import { RUN_FILES } from '../runs/run-files';
import type { ExperimentSpec } from './experiment-file';
import { cellTrainArgs, expandGrid, type ExperimentCell } from './expand-grid';
import { ensureExperimentSplit } from './experiment-split';
import { EXPERIMENT_FILES, readCompletedSummary, readExperimentState, runDirOf, writeExperimentState, type ExperimentState } from './experiment-state';

/** The `covseg` script every cell runs, as the app's training service does. */
const COVSEG_BIN = resolve(import.meta.dirname, '../../../bin/covseg.mjs');

export interface ExperimentProgress {
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Seconds left, from the mean duration of cells finished in this invocation; null before the first. */
  etaSeconds: number | null;
  /** Slurm executor: cells submitted and waiting in the queue. */
  queued?: number;
}

export interface RunExperimentOptions {
  expDir: string;
  /** Cells at once; each gets floor(cores / parallel) data-parallel workers (at most 2). */
  parallel?: number;
  cores?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ExperimentProgress) => void;
  onMessage?: (line: string) => void;
}

export interface ExperimentOutcome {
  state: ExperimentState;
  /** Cells already finished before this invocation. */
  skipped: number;
  ran: number;
  failed: number;
  cancelled: boolean;
}

/** Data-parallel workers per cell so that parallel x workers never exceeds the cores. */
export function workersPerCell(parallel: number, cores: number): number {
  if (!Number.isInteger(parallel) || parallel < 1) throw new CovsegError('bad-parameter', `--parallel must be a whole number >= 1, got ${parallel}`, { fix: 'use --parallel 1 (default) up to the number of cores' });
  if (parallel > cores) throw new CovsegError('bad-parameter', `--parallel ${parallel} is more than the ${cores} core(s) of this machine`, { fix: `use --parallel ${cores} or less; each cell already uses its cores` });
  return Math.max(1, Math.min(2, Math.floor(cores / parallel)));
}

/** The last meaningful line of a cell's log (an error line if there is one): what the user sees as the cell's error. */
export async function lastErrorLine(logFile: string): Promise<string> {
  const text = existsSync(logFile) ? await readFile(logFile, 'utf8') : '';
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('epoch '));
  return [...lines].reverse().find((l) => /^(error|covseg:)/i.test(l)) ?? lines.at(-1) ?? '';
}

async function errorFromLog(logFile: string, code: number | null, signal: string | null): Promise<string> {
  const errorLine = await lastErrorLine(logFile);
  return `${signal ? `killed by ${signal}` : `exit code ${code}`}${errorLine ? `: ${errorLine}` : ''}`;
}

/** A run folder a killed cell left before writing its configuration holds nothing worth keeping. */
export async function clearEmptyStart(runDir: string): Promise<void> {
  if (!existsSync(runDir) || existsSync(join(runDir, RUN_FILES.config))) return;
  const entries = (await readdir(runDir)).filter((name) => name !== LOCK_FILE);
  if (entries.length === 0) await rm(runDir, { recursive: true, force: true });
}

function runCell(args: string[], logFile: string, signal: AbortSignal): Promise<{ code: number | null; signal: string | null }> {
  const log = openSync(logFile, 'a');
  try {
    // Own process group: a terminal Ctrl-C reaches only this process, which forwards one SIGINT,
    // because a second SIGINT would make `covseg train` quit without its resumable checkpoint.
    const child = spawn(process.execPath, [COVSEG_BIN, ...args], { detached: true, stdio: ['ignore', log, log] });
    const interrupt = () => child.kill('SIGINT');
    signal.addEventListener('abort', interrupt, { once: true });
    return new Promise((resolveExit) => {
      child.once('exit', (code, sig) => {
        signal.removeEventListener('abort', interrupt);
        resolveExit({ code, signal: sig });
      });
      child.once('error', () => resolveExit({ code: null, signal: null }));
    });
  } finally {
    closeSync(log);
  }
}

/**
 * Loads or starts an experiment folder's state (the caller holds its lock): the split is made once,
 * and every cell is marked done (its run folder holds a completed summary) or pending.
 */
export async function prepareExperiment(spec: ExperimentSpec, expDir: string, onMessage?: (line: string) => void): Promise<{ state: ExperimentState; pending: ExperimentCell[]; split: { file: string } }> {
    const previous = await readExperimentState(expDir);
    if (previous && previous.spec.dataset !== spec.dataset) {
      throw new CovsegError('bad-parameter', `this experiment folder ran on ${previous.spec.dataset}, not ${spec.dataset}`, { file: join(expDir, EXPERIMENT_FILES.state), fix: 'use a new --out folder for another dataset' });
    }
    const split = previous && existsSync(previous.splitFile) ? { file: previous.splitFile, made: false } : await ensureExperimentSplit(spec, expDir);
    if (split.made) onMessage?.(`made the experiment's split once: ${split.file}`);
    const cells = expandGrid(spec);
    const now = new Date().toISOString();
    const state: ExperimentState = { version: 1, name: spec.name, createdAt: previous?.createdAt ?? now, updatedAt: now, spec, splitFile: split.file, cells, records: {}, ...(previous?.slurmJobs ? { slurmJobs: previous.slurmJobs } : {}) };
    for (const cell of cells) state.records[cell.id] = { ...(previous?.records[cell.id] ?? { attempts: 0 }), state: 'pending' };
    const pending: ExperimentCell[] = [];
    for (const cell of cells) {
      if (await readCompletedSummary(runDirOf(expDir, cell.id))) state.records[cell.id]!.state = 'done';
      else pending.push(cell);
    }
  await writeExperimentState(expDir, state);
  return { state, pending, split };
}

/**
 * Runs every unfinished cell of an experiment as a `covseg train` child process, `parallel` at a
 * time. Finished cells (a completed summary.json) are skipped; a cell with a configuration but no
 * summary resumes from its checkpoint; a failing cell is recorded and the others go on. Holds the
 * experiment folder's lock throughout: one writer per experiment.
 */
export async function runExperiment(spec: ExperimentSpec, options: RunExperimentOptions): Promise<ExperimentOutcome> {
  const expDir = resolve(options.expDir);
  const cores = options.cores ?? availableParallelism();
  const parallel = options.parallel ?? 1;
  const workers = workersPerCell(parallel, cores);
  const signal = options.signal ?? new AbortController().signal;
  const lock = await acquireFolderLock(expDir, 'covseg experiment run');
  try {
    const { state, pending, split } = await prepareExperiment(spec, expDir, options.onMessage);
    const cells = state.cells;
    const skipped = cells.length - pending.length;
    await mkdir(join(expDir, EXPERIMENT_FILES.logs), { recursive: true });

    let running = 0;
    let ran = 0;
    let failed = 0;
    const durations: number[] = [];
    // Serialises writes of the state file, which several finishing cells may want at once.
    let writing = Promise.resolve();
    const save = () => (writing = writing.then(() => writeExperimentState(expDir, state)));
    const report = () => {
      const values = Object.values(state.records);
      const done = values.filter((r) => r.state === 'done').length;
      const left = cells.length - done - values.filter((r) => r.state === 'failed').length;
      const mean = durations.length ? durations.reduce((s, d) => s + d, 0) / durations.length : null;
      options.onProgress?.({ total: cells.length, done, running, failed, etaSeconds: mean === null ? null : (mean * left) / parallel });
    };
    report();

    const queue = [...pending];
    const worker = async () => {
      for (let cell = queue.shift(); cell && !signal.aborted; cell = queue.shift()) {
        const runDir = runDirOf(expDir, cell.id);
        await clearEmptyStart(runDir);
        const args = cellTrainArgs(spec, cell, runDir, split.file, workers);
        if (existsSync(join(runDir, RUN_FILES.config))) args.push('--resume');
        const record = state.records[cell.id]!;
        Object.assign(record, { state: 'running', attempts: record.attempts + 1, startedAt: new Date().toISOString() });
        delete record.error;
        running++;
        await save();
        report();
        const started = performance.now();
        const logFile = join(expDir, EXPERIMENT_FILES.logs, `${cell.id}.log`);
        const exit = await runCell(args, logFile, signal);
        running--;
        const seconds = (performance.now() - started) / 1000;
        const summary = await readCompletedSummary(runDir).catch(() => undefined);
        if (summary) {
          Object.assign(record, { state: 'done', finishedAt: new Date().toISOString(), seconds });
          durations.push(seconds);
          ran++;
        } else if (signal.aborted) {
          record.state = 'pending';
        } else {
          Object.assign(record, { state: 'failed', finishedAt: new Date().toISOString(), seconds, error: await errorFromLog(logFile, exit.code, exit.signal) });
          failed++;
          options.onMessage?.(`cell ${cell.id} failed: ${record.error}`);
        }
        await save();
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, Math.max(1, pending.length)) }, worker));
    await writing;
    return { state, skipped, ran, failed, cancelled: signal.aborted };
  } finally {
    await lock.release();
  }
}
