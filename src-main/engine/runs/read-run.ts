import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CovsegError } from '../errors';
import type { EpochLog, RunRecord, RunSummary } from '../training/trainer';
import { readJsonFile, readMetrics, readStatus, RUN_FILES, type RunStatus } from './run-files';

/** Everything a person or the app reads from a run folder. */
export interface RunView {
  dir: string;
  record: RunRecord;
  status: RunStatus;
  metrics: EpochLog[];
  summary?: RunSummary;
}

/** Reads a run folder; a damaged or foreign folder fails naming the file and the fix. */
export async function readRun(dir: string): Promise<RunView> {
  const runDir = resolve(dir);
  if (!existsSync(runDir)) throw new CovsegError('not-found', 'run folder does not exist', { file: runDir, fix: 'give the --out folder of a `covseg train` run' });
  const record = await readJsonFile<RunRecord>(runDir, RUN_FILES.config, 'run configuration');
  if (record.version !== 1 || !record.config || !record.split) {
    throw new CovsegError('bad-run', 'config.json is not a CovSeg run configuration', { file: join(runDir, RUN_FILES.config), fix: 'point at a run folder made by `covseg train`' });
  }
  const status = await readStatus(runDir);
  const metrics = await readMetrics<EpochLog>(runDir, status.epoch);
  const summary = existsSync(join(runDir, RUN_FILES.summary)) ? await readJsonFile<RunSummary>(runDir, RUN_FILES.summary, 'run summary') : undefined;
  return summary ? { dir: runDir, record, status, metrics, summary } : { dir: runDir, record, status, metrics };
}
