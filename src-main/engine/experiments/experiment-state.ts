import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { writeJsonAtomic } from '../files/atomic-write';
import { RUN_FILES } from '../runs/run-files';
import type { RunSummary } from '../training/trainer';
import type { ExperimentSpec } from './experiment-file';
import type { ExperimentCell } from './expand-grid';

export const EXPERIMENT_FILES = { state: 'experiment.json', runs: 'runs', logs: 'logs' } as const;

export type CellState = 'pending' | 'running' | 'done' | 'failed';

export interface CellRecord {
  state: CellState;
  /** Attempts started, so a crash loop is visible. */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  seconds?: number;
  error?: string;
  /** Slurm executor: the array task that runs or ran this cell (`JOB_TASK`), for re-attaching after a restart. */
  slurmTask?: string;
}

/** One `sbatch` submission of the Slurm executor. */
export interface SlurmJobRecord {
  id: string;
  script: string;
  submittedAt: string;
  /** Cell ids in array-task order. */
  cells: string[];
}

/** EXPDIR/experiment.json: what the experiment is and how far each cell got. */
export interface ExperimentState {
  version: 1;
  name: string;
  createdAt: string;
  updatedAt: string;
  spec: ExperimentSpec;
  splitFile: string;
  cells: ExperimentCell[];
  records: Record<string, CellRecord>;
  /** Jobs the Slurm executor submitted, oldest first. */
  slurmJobs?: SlurmJobRecord[];
}

export function runDirOf(expDir: string, cellId: string): string {
  return join(expDir, EXPERIMENT_FILES.runs, cellId);
}

export async function readExperimentState(expDir: string): Promise<ExperimentState | undefined> {
  const file = join(expDir, EXPERIMENT_FILES.state);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as ExperimentState;
    if (state.version !== 1 || !Array.isArray(state.cells)) throw new Error('unknown layout');
    return state;
  } catch (error) {
    throw new CovsegError('corrupt-file', `experiment state is unreadable: ${(error as Error).message}`, { file, fix: 'restore it or start the experiment in a new --out folder' });
  }
}

/** Written atomically: a kill in mid-write leaves the previous state, never half a file. */
export async function writeExperimentState(expDir: string, state: ExperimentState): Promise<void> {
  state.updatedAt = new Date().toISOString();
  await writeJsonAtomic(join(expDir, EXPERIMENT_FILES.state), state);
}

/** A cell is finished when its run folder holds a summary of a completed run: the run folder is the truth, not the state file. */
export async function readCompletedSummary(runDir: string): Promise<RunSummary | undefined> {
  const file = join(runDir, RUN_FILES.summary);
  if (!existsSync(file)) return undefined;
  const summary = JSON.parse(await readFile(file, 'utf8')) as RunSummary;
  return summary.status === 'completed' ? summary : undefined;
}
