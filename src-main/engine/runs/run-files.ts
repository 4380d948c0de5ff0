import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { diskFullError, isDiskFull } from '../files/disk-full';
import { processAlive } from '../concurrency/process-alive';

/**
 * A run is a folder a person can read:
 * `config.json` (everything to reproduce it), `status.json`, `metrics.jsonl` (a line per epoch),
 * `checkpoints/` (one folder per saved epoch, `last.json` and `best.json` pointing at them),
 * `summary.json` (test metrics and timings) and `predictions/` on request.
 */
export const RUN_FILES = {
  config: 'config.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  checkpoints: 'checkpoints',
  predictions: 'predictions',
} as const;

export type RunState = 'running' | 'completed' | 'cancelled' | 'failed';

export interface RunStatus {
  state: RunState;
  updatedAt: string;
  /** Epochs finished so far. */
  epoch: number;
  pid?: number;
  error?: string;
}

export async function writeStatus(runDir: string, status: Omit<RunStatus, 'updatedAt'>): Promise<void> {
  await writeJsonAtomic(join(runDir, RUN_FILES.status), { ...status, updatedAt: new Date().toISOString() });
}

async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CovsegError('bad-run', `${what} is missing`, { file, fix: 'point at a run folder made by `covseg train`' });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CovsegError('bad-run', `${what} is damaged (not valid JSON)`, { file, fix: 'restore it from a copy; checkpoints and metrics.jsonl are unaffected' });
  }
}

export async function readStatus(runDir: string): Promise<RunStatus> {
  const status = await readJson<RunStatus>(join(runDir, RUN_FILES.status), 'run status');
  if (status.state === 'running' && status.pid !== undefined && !processAlive(status.pid)) {
    // The process that wrote "running" is gone: the run was interrupted (killed, crashed, machine off).
    return { ...status, state: 'cancelled', error: 'interrupted: the training process stopped without finishing' };
  }
  return status;
}

export async function readJsonFile<T>(runDir: string, name: string, what: string): Promise<T> {
  return readJson<T>(join(runDir, name), what);
}

/**
 * Appends one JSON line and flushes it; a crash can leave at most a torn last line, which
 * {@link truncateMetrics} removes when the run is opened again. Should a torn tail still be there,
 * the record starts on a fresh line so the tail cannot swallow it.
 */
export async function appendMetrics(runDir: string, record: object): Promise<void> {
  const file = join(runDir, RUN_FILES.metrics);
  try {
    const handle = await open(file, 'a+');
    try {
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await handle.read(last, 0, 1, size - 1);
      const separator = size > 0 && last[0] !== 0x0a ? '\n' : '';
      await handle.appendFile(`${separator}${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isDiskFull(error)) throw diskFullError(file, error, 'resume the run with `covseg train --out RUNDIR --resume` (the torn line is dropped, the epoch redone)');
    throw error;
  }
}

/**
 * Makes metrics.jsonl hold each epoch 1..`throughEpoch` at most once: drops a torn last line (no
 * final newline), lines past `throughEpoch` (epochs a resume redoes from the checkpoint) and repeats,
 * rewriting the file atomically only when that changes it. Called under the run lock on every start.
 */
export async function truncateMetrics(runDir: string, throughEpoch: number): Promise<void> {
  const file = join(runDir, RUN_FILES.metrics);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  // The element after the last newline is '' or a torn line: never a finished record.
  const complete = text.split('\n').slice(0, -1);
  const byEpoch = new Map<number, string>();
  for (const line of complete) {
    try {
      const epoch = (JSON.parse(line) as { epoch?: unknown }).epoch;
      if (typeof epoch === 'number' && Number.isInteger(epoch) && epoch >= 1 && epoch <= throughEpoch) byEpoch.set(epoch, line);
    } catch {
      // A torn line that a later append started a fresh line after: dropped.
    }
  }
  const kept = [...byEpoch].sort((a, b) => a[0] - b[0]).map(([, line]) => `${line}\n`).join('');
  if (kept !== text) await writeFileAtomic(file, kept);
}

/** Reads metrics.jsonl, ignoring a torn last line and lines past `maxEpoch` (rewound by a resume). */
export async function readMetrics<T extends { epoch: number }>(runDir: string, maxEpoch = Infinity): Promise<T[]> {
  let text = '';
  try {
    text = await readFile(join(runDir, RUN_FILES.metrics), 'utf8');
  } catch {
    return [];
  }
  const records: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as T;
      if (record.epoch <= maxEpoch) records.push(record);
    } catch {
      // A torn final line from a killed process: the epoch it described is redone on resume.
    }
  }
  // A resumed run may repeat epochs after an interruption; the latest line for an epoch wins.
  const byEpoch = new Map(records.map((r) => [r.epoch, r]));
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

export async function ensureRunDir(runDir: string): Promise<void> {
  await mkdir(join(runDir, RUN_FILES.checkpoints), { recursive: true });
}

/** Checkpoint folders no pointer refers to (left by a crash or superseded), removed after a save. */
export async function pruneCheckpoints(runDir: string, keep: Set<string>): Promise<void> {
  const dir = join(runDir, RUN_FILES.checkpoints);
  for (const name of await readdir(dir)) {
    if (name.endsWith('.json') || keep.has(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
