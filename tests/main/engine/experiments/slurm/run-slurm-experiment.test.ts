import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentState } from '../../../../../src-main/engine/experiments/experiment-state';
import { loadExperiment } from '../../../../../src-main/engine/experiments/experiment-file';
import { writeExperimentReport } from '../../../../../src-main/engine/experiments/report/write-report';
import { runExperiment } from '../../../../../src-main/engine/experiments/run-experiment';
import { startCovsegBinary } from '../../../../fixtures/run-cli';
import { holdNewJobs, queuedTaskIds, SLURM_SKIP_REASON } from '../../../../fixtures/slurm';
import { tempDir } from '../../../../fixtures/temp-dir';
import { tinySample } from '../../../../fixtures/tiny-sample';

const BIN = resolve(import.meta.dirname, '../../../../../bin/covseg.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TINY = { size: 32, depth: 2, baseFilters: 4, batch: 4, backend: 'wasm' };

async function readState(expDir: string): Promise<ExperimentState | undefined> {
  try {
    return JSON.parse(await readFile(join(expDir, 'experiment.json'), 'utf8')) as ExperimentState;
  } catch {
    return undefined;
  }
}

async function epochsOf(runDir: string): Promise<number[]> {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { epoch: number }).epoch);
}

/** results.csv without the columns that differ between two honest executions (wall time, the executor's error wording). */
async function csvWithoutTimes(expDir: string): Promise<string[][]> {
  const [header, ...rows] = (await readFile(join(expDir, 'results.csv'), 'utf8')).trim().split('\n').map((line) => line.split(','));
  const keep = header!.map((name, i) => (['seconds', 'error'].includes(name) ? -1 : i)).filter((i) => i >= 0);
  return [header!, ...rows].map((row) => keep.map((i) => row[i]!));
}

const slurmFlags = (cpus: number) => ['--executor', 'slurm', '--cpus', String(cpus), '--mem', '1G', '--time', '00:15:00', '--poll', '1'];

describe.skipIf(SLURM_SKIP_REASON !== undefined)('covseg experiment run --executor slurm (one-node cluster on this machine)', () => {
  it('runs a grid as a job array, re-attaches after the CLI is killed with -9, and reports what the local executor reports', async () => {
    const data = await tinySample(16, 32);
    const dir = await tempDir();
    const file = join(dir, 'grid.json');
    await writeFile(file, JSON.stringify({ name: 'grid', dataset: data, splitOptions: { val: 0.25, test: 0.25, seed: 1 }, axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['bce'], seeds: [1] }, fixed: { epochs: 1, ...TINY } }));
    const slurmDir = join(dir, 'on-slurm');

    // 1 CPU per cell: both cells run at once, each with one training worker. The node is drained
    // until the second CLI has re-attached, so the tiny jobs cannot finish while no CLI watches.
    const release = holdNewJobs();
    try {
      const first = spawn(process.execPath, [BIN, 'experiment', 'run', file, '--out', slurmDir, ...slurmFlags(1)], { stdio: 'ignore' });
      let tasks: string[] = [];
      for (let waited = 0; waited < 60_000 && tasks.length < 2; waited += 100) {
        await sleep(100);
        tasks = Object.values((await readState(slurmDir))?.records ?? {}).flatMap((r) => (r.slurmTask ? [r.slurmTask] : []));
      }
      expect(tasks).toHaveLength(2);
      first.kill('SIGKILL');
      await new Promise((r) => (first.exitCode !== null || first.signalCode !== null ? r(null) : first.once('exit', r)));
      // The jobs do not belong to the CLI: they are still queued without it.
      expect(queuedTaskIds()).toEqual(expect.arrayContaining(tasks));

      const second = startCovsegBinary(['experiment', 'run', file, '--out', slurmDir, ...slurmFlags(1)]);
      for (let waited = 0; waited < 60_000 && !/re-attached/.test(second.stderr) && second.child.exitCode === null; waited += 100) await sleep(100);
      expect(second.stderr).toMatch(/re-attached to 2 cell\(s\) still in Slurm's queue \(job \d+\)/);
      release();
      expect(await second.exited, second.stderr).toBe(0);
      expect(second.stderr).not.toMatch(/submitted Slurm job/);
      expect(second.stdout).toMatch(/experiment grid: 0 cell\(s\) already finished, 2 ran now, 0 failed/);
    } finally {
      release();
    }
    const state = (await readState(slurmDir))!;
    expect(state.slurmJobs).toHaveLength(1);
    expect(Object.values(state.records).map((r) => [r.state, r.attempts])).toEqual([['done', 1], ['done', 1]]);
    for (const cell of state.cells) expect(await epochsOf(join(slurmDir, 'runs', cell.id))).toEqual([1]);
    expect(existsSync(join(slurmDir, 'logs', 'origin__unet__bce__s1.log'))).toBe(true);
    expect(existsSync(join(slurmDir, '.lock'))).toBe(false);

    // Same grid, same seeds, same backend on the local executor, also 2 cells at once with one
    // worker each (workers change the arithmetic, so equal results need equal workers): the same report.
    const localDir = join(dir, 'local');
    const local = await runExperiment(await loadExperiment(file), { expDir: localDir, parallel: 2, cores: 2 });
    expect(local.ran).toBe(2);
    await writeExperimentReport(localDir);
    expect(await readFile(join(slurmDir, 'results.md'), 'utf8')).toBe(await readFile(join(localDir, 'results.md'), 'utf8'));
    expect(await csvWithoutTimes(slurmDir)).toEqual(await csvWithoutTimes(localDir));
  }, 240_000);

  it('reports a failed task with its log paths, and Ctrl-C cancels the jobs leaving a resumable checkpoint', async () => {
    const data = await tinySample(16, 32);
    const dir = await tempDir();
    const file = join(dir, 'cancel.json');
    // origin+gan fails (no generated pairs); origin runs long enough to be cancelled.
    await writeFile(file, JSON.stringify({ name: 'cancel', dataset: data, axes: { recipes: ['origin+gan', 'origin'], models: ['unet'], losses: ['bce'], seeds: [1] }, fixed: { epochs: 60, ...TINY } }));
    const expDir = join(dir, 'exp');
    const cli = startCovsegBinary(['experiment', 'run', file, '--out', expDir, ...slurmFlags(1)]);
    const runDir = join(expDir, 'runs', 'origin__unet__bce__s1');
    for (let waited = 0; waited < 90_000 && !(cli.stderr.includes('failed:') && existsSync(join(runDir, 'metrics.jsonl'))); waited += 100) await sleep(100);
    expect(cli.stderr).toMatch(/cell origin\+gan__unet__bce__s1 failed: Slurm task \d+_0 FAILED, exit 1:0[^:]*: error: recipe "origin\+gan" trains on GAN-generated pairs/);
    // The CLI prints a failed cell as it settles it and saves the state after that poll's cells are settled.
    await expect.poll(async () => (await readState(expDir))?.records['origin+gan__unet__bce__s1']?.state, { timeout: 15_000 }).toBe('failed');
    const gan = (await readState(expDir))!.records['origin+gan__unet__bce__s1']!;
    const logs = /\(log (\S+); Slurm's log (\S+)\)$/.exec(gan.error ?? '');
    expect(logs?.[1]).toBe(join(expDir, 'logs', 'origin+gan__unet__bce__s1.log'));
    expect(logs?.[2]).toMatch(/logs\/covseg-cancel-\d+_0\.slurm\.log$/);
    expect(existsSync(logs![2]!)).toBe(true);
    const task = (await readState(expDir))!.records['origin__unet__bce__s1']!.slurmTask!;

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(1);
    expect(cli.stderr).toMatch(/cancelling Slurm job \d+: running cells save a checkpoint/);
    expect(cli.stderr).toMatch(/cancelled Slurm job \d+; run the same command again/);
    expect(cli.stdout).toMatch(/0 ran now, 1 failed; stopped/);
    expect(queuedTaskIds()).not.toContain(task);
    expect((await readState(expDir))!.records['origin__unet__bce__s1']!.state).toBe('pending');
    // covseg train got the SIGINT through scancel and stopped the way Ctrl-C stops it.
    expect(JSON.parse(await readFile(join(runDir, 'status.json'), 'utf8')).state).toBe('cancelled');
    expect(existsSync(join(runDir, 'checkpoints', 'last.json'))).toBe(true);
    expect(existsSync(join(expDir, '.lock'))).toBe(false);
  }, 180_000);
});
