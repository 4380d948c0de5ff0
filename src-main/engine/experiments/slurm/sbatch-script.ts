import { join, resolve } from 'node:path';
import { CovsegError } from '../../errors';
import type { ExperimentSpec } from '../experiment-file';
import { cellTrainArgs, type ExperimentCell } from '../expand-grid';
import { EXPERIMENT_FILES, runDirOf } from '../experiment-state';

/** Cluster resources per array task (one task = one cell). */
export interface SlurmOptions {
  partition?: string;
  /** Wall time per cell, Slurm syntax (e.g. 04:00:00). */
  time: string;
  /** Memory per cell, Slurm syntax (e.g. 8G). */
  mem: string;
  cpus: number;
  gpus: number;
  /** Array tasks running at once (the `%N` throttle); unlimited when absent. */
  maxRunning?: number;
  /** Further `#SBATCH` lines or set-up commands (module load ...), copied verbatim in order. */
  extraLines: string[];
  /** How a node starts covseg; default: this Node binary and this checkout (a shared file system). */
  covseg?: string;
}

/** Slurm's output file of each array task, under EXPDIR/logs (%x job name, %A array job id, %a task index). */
export const SLURM_LOG_PATTERN = '%x-%A_%a.slurm.log';

/** Slurm's own log of one task, e.g. `slurmLogFile(dir, 'quick', '12_3')`. */
export function slurmLogFile(expDir: string, name: string, taskId: string): string {
  const [job, task] = taskId.split('_');
  return join(expDir, EXPERIMENT_FILES.logs, `covseg-${name}-${job}_${task}.slurm.log`);
}

/** covseg's output of one cell, for both executors. */
export function cellLogFile(expDir: string, cellId: string): string {
  return join(expDir, EXPERIMENT_FILES.logs, `${cellId}.log`);
}

/** POSIX single-quoting, so paths with spaces or quotes reach covseg unchanged. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One `sbatch` job-array script for the pending cells: task i runs `covseg train` for cell i into its
 * run folder under EXPDIR (which must be on a file system every node sees), with `--resume` when
 * the folder already holds a configuration, so a requeued or re-submitted task continues.
 */
export function sbatchScript(spec: ExperimentSpec, cells: readonly ExperimentCell[], expDir: string, splitFile: string, options: SlurmOptions): string {
  if (cells.length === 0) throw new CovsegError('bad-parameter', 'no pending cells: every cell of this experiment has finished', { fix: 'run `covseg experiment report EXPDIR`' });
  const dir = resolve(expDir);
  const covseg = options.covseg ?? `${shellQuote(process.execPath)} ${shellQuote(resolve(import.meta.dirname, '../../../../bin/covseg.mjs'))}`;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=covseg-${spec.name}`,
    `#SBATCH --array=0-${cells.length - 1}${options.maxRunning ? `%${options.maxRunning}` : ''}`,
    `#SBATCH --time=${options.time}`,
    `#SBATCH --mem=${options.mem}`,
    `#SBATCH --cpus-per-task=${options.cpus}`,
    ...(options.gpus > 0 ? [`#SBATCH --gpus-per-task=${options.gpus}`] : []),
    ...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []),
    // Slurm's own messages (time limit, node failure) go here; covseg's output goes to logs/<cell>.log.
    `#SBATCH --output=${dir}/${EXPERIMENT_FILES.logs}/${SLURM_LOG_PATTERN}`,
    ...options.extraLines,
    'set -euo pipefail',
    '',
    `# ${cells.length} cell(s) of experiment ${spec.name}; results are collected by: covseg experiment report ${shellQuote(dir)}`,
    'case "$SLURM_ARRAY_TASK_ID" in',
  ];
  cells.forEach((cell, index) => {
    const runDir = runDirOf(dir, cell.id);
    const args = cellTrainArgs(spec, cell, runDir, splitFile, Math.min(2, options.cpus)).map(shellQuote).join(' ');
    const log = cellLogFile(dir, cell.id);
    lines.push(`  ${index}) RUN=${shellQuote(runDir)}; LOG=${shellQuote(log)}; ARGS=(${args}) ;;`);
  });
  lines.push(
    '  *) echo "no cell for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    'esac',
    // A folder with a configuration was started before (killed, timed out, requeued): continue it.
    'if [ -f "$RUN/config.json" ]; then ARGS+=(--resume); fi',
    // The same per-cell log the local executor writes, appended over attempts.
    'exec >>"$LOG" 2>&1',
    `exec ${covseg} "\${ARGS[@]}"`,
    '',
  );
  return lines.join('\n');
}
