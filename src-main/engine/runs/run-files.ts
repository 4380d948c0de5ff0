import { appendFile, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { writeJsonAtomic } from '../files/atomic-write';

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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readJsonFile<T>(runDir: string, name: string, what: string): Promise<T> {
  return readJson<T>(join(runDir, name), what);
}

/** Appends one JSON line and flushes it; a crash can leave at most a torn last line. */
export async function appendMetrics(runDir: string, record: object): Promise<void> {
  const file = join(runDir, RUN_FILES.metrics);
  await appendFile(file, `${JSON.stringify(record)}\n`);
  const handle = await open(file, 'r+');
  await handle.sync();
  await handle.close();
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
