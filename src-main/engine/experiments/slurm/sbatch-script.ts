import { resolve } from 'node:path';
import { CovsegError } from '../../errors';
import type { ExperimentSpec } from '../experiment-file';
import { cellTrainArgs, type ExperimentCell } from '../expand-grid';
import { runDirOf } from '../experiment-state';

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
    `#SBATCH --output=${dir}/logs/%x-%A_%a.log`,
    ...options.extraLines,
    'set -euo pipefail',
    '',
    `# ${cells.length} cell(s) of experiment ${spec.name}; results are collected by: covseg experiment report ${shellQuote(dir)}`,
    'case "$SLURM_ARRAY_TASK_ID" in',
  ];
  cells.forEach((cell, index) => {
    const runDir = runDirOf(dir, cell.id);
    const args = cellTrainArgs(spec, cell, runDir, splitFile, Math.min(2, options.cpus)).map(shellQuote).join(' ');
    lines.push(`  ${index}) RUN=${shellQuote(runDir)}; ARGS=(${args}) ;;`);
  });
  lines.push(
    '  *) echo "no cell for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    'esac',
    // A folder with a configuration was started before (killed, timed out, requeued): continue it.
    'if [ -f "$RUN/config.json" ]; then ARGS+=(--resume); fi',
    `exec ${covseg} "\${ARGS[@]}"`,
    '',
  );
  return lines.join('\n');
}
