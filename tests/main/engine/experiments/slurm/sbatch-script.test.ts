import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandGrid } from '../../../../../src-main/engine/experiments/expand-grid';
import { validateExperiment } from '../../../../../src-main/engine/experiments/experiment-file';
import { sbatchScript } from '../../../../../src-main/engine/experiments/slurm/sbatch-script';
import { tempDir } from '../../../../fixtures/temp-dir';

const spec = validateExperiment(
  { name: 'grid', dataset: "/data/it's here", axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['bce'], seeds: [1, 2] }, fixed: { epochs: 3 } },
  'f',
  '/',
);

/**
 * Runs array task `task` of the script with `printf` standing in for covseg, so the arguments it
 * would get are visible in the cell's log, where the script sends covseg's output.
 */
function runTask(script: string, task: number, log?: string): { code: number | null; args: string[] } {
  const result = spawnSync('bash', ['-c', script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(task) }, encoding: 'utf8' });
  const text = log && existsSync(log) ? readFileSync(log, 'utf8') : '';
  if (log) rmSync(log, { force: true });
  return { code: result.status, args: text.split('\n').filter(Boolean) };
}

describe('sbatchScript', () => {
  it('writes one array task per pending cell with the requested resources and extra lines', async () => {
    const expDir = await tempDir();
    const cells = expandGrid(spec).slice(1);
    const script = sbatchScript(spec, cells, expDir, join(expDir, 'split.json'), { partition: 'gpu', time: '02:00:00', mem: '16G', cpus: 4, gpus: 1, maxRunning: 2, extraLines: ['#SBATCH --account=lab', 'module load nodejs'], covseg: "printf '%s\\n'" });
    for (const line of ['#SBATCH --array=0-2%2', '#SBATCH --time=02:00:00', '#SBATCH --mem=16G', '#SBATCH --cpus-per-task=4', '#SBATCH --gpus-per-task=1', '#SBATCH --partition=gpu', '#SBATCH --account=lab', 'module load nodejs']) {
      expect(script.split('\n')).toContain(line);
    }
    expect(spawnSync('bash', ['-n', '-c', script]).status).toBe(0);
  });

  it('hands each task its cell arguments intact, and adds --resume once the run folder holds a configuration', async () => {
    const expDir = await tempDir('covseg exp ');
    const cells = expandGrid(spec);
    const script = sbatchScript(spec, cells, expDir, join(expDir, 'split.json'), { time: '01:00:00', mem: '4G', cpus: 2, gpus: 0, extraLines: [], covseg: "printf '%s\\n'" });
    expect(script).not.toContain('--gpus-per-task');
    const log = join(expDir, 'logs', 'fliprot+elastic__unet__bce__s1.log');
    await mkdir(join(expDir, 'logs'));
    expect(script).toContain(`#SBATCH --output=${expDir}/logs/%x-%A_%a.slurm.log`);
    const first = runTask(script, 2, log);
    expect(first.code).toBe(0);
    expect(first.args.slice(0, 5)).toEqual(['train', '--data', "/data/it's here", '--out', join(expDir, 'runs', 'fliprot+elastic__unet__bce__s1')]);
    expect(first.args[first.args.indexOf('--epochs') + 1]).toBe('3');
    expect(first.args).not.toContain('--resume');
    await mkdir(join(expDir, 'runs', 'fliprot+elastic__unet__bce__s1'), { recursive: true });
    await writeFile(join(expDir, 'runs', 'fliprot+elastic__unet__bce__s1', 'config.json'), '{}');
    expect(runTask(script, 2, log).args.at(-1)).toBe('--resume');
    expect(runTask(script, 9).code).toBe(2);
  });

  it('refuses to write a script when nothing is pending', () => {
    expect(() => sbatchScript(spec, [], '/e', '/e/split.json', { time: '1:00:00', mem: '1G', cpus: 1, gpus: 0, extraLines: [] })).toThrow(/no pending cells/);
  });
});
