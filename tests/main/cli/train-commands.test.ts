import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runCovsegBinary } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

const TINY = ['--size', '32', '--depth', '2', '--base-filters', '4', '--batch', '4', '--backend', 'wasm'];

describe('covseg train, eval and predict', () => {
  it('trains, evaluates and predicts through the real binary', async () => {
    const data = await tinySample();
    const out = join(await tempDir(), 'run');
    const trained = runCovsegBinary(['train', '--data', data, '--out', out, '--epochs', '2', ...TINY]);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/run completed: 2 epoch\(s\)/);
    expect(trained.stdout).toMatch(/Dice \(F1\), per image/);
    expect(trained.stdout).toContain(`run folder: ${out}`);
    // Not a terminal: one plain line per epoch, no redrawn bar.
    expect(trained.stderr).toMatch(/epoch 1\/2 {2}train loss/);
    expect(trained.stderr).not.toContain('\r');
    const evaluated = await runCli(['eval', '--run', out, '--json']);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).metrics.slices).toBeGreaterThan(0);
    const masks = join(await tempDir(), 'masks');
    const predicted = await runCli(['predict', '--run', out, '--input', data, '--out', masks]);
    expect(predicted.code).toBe(0);
    expect((await readdir(masks)).length).toBe(24);

    // Predicting "masks" into the dataset would replace its ground truth: refused, nothing touched.
    const truth = await readFile(join(data, 'masks', (await readdir(join(data, 'masks')))[0]!));
    const intoData = await runCli(['predict', '--run', out, '--input', data, '--out', join(data, 'masks')]);
    expect(intoData.code).toBe(1);
    expect(intoData.stderr).toMatch(/--out .*masks lies inside the input .*covseg never writes into its inputs/);
    expect(await readFile(join(data, 'masks', (await readdir(join(data, 'masks')))[0]!))).toEqual(truth);
    const again = await runCli(['predict', '--run', out, '--input', data, '--out', masks]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds 24 file\(s\) this command would overwrite .*--force/);
    expect((await runCli(['predict', '--run', out, '--input', data, '--out', masks, '--force'])).code).toBe(0);
  });

  it('validates the model before creating the run folder, with messages about the option at fault', async () => {
    const data = await tinySample(6, 32);
    const out = join(await tempDir(), 'run');
    const cases: [string[], RegExp][] = [
      [['--depth', '9'], /--depth must be an integer from 1 to 6 .*got 9/],
      [['--depth', '0'], /--depth must be an integer from 1 to 6 .*got 0/],
      [['--base-filters', '0'], /--base-filters must be an integer from 1 to 256, got 0/],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(['train', '--data', data, '--out', out, '--size', '32', ...flags]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/multiple of/);
      expect(existsSync(out)).toBe(false);
    }
    // A run folder inside the dataset, or a file as --out: refused before anything is written.
    const inside = await runCli(['train', '--data', data, '--out', join(data, 'runs', 'a'), ...TINY]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/lies inside the input/);
    expect(existsSync(join(data, 'runs'))).toBe(false);
    const file = join(await tempDir(), 'file');
    await writeFile(file, 'x');
    const onFile = await runCli(['train', '--data', data, '--out', file, ...TINY]);
    expect(onFile.code).toBe(1);
    expect(onFile.stderr).toMatch(/is a file, but a folder is expected/);
    expect(onFile.stderr).not.toMatch(/\n\s+at /);
  });

  it('Ctrl-C before the first checkpoint prints a resume hint that works: the run starts again from epoch 1', async () => {
    const data = await tinySample(12, 32);
    const out = join(await tempDir(), 'run');
    const bin = resolve(import.meta.dirname, '../../../bin/covseg.mjs');
    const child = spawn(process.execPath, [bin, 'train', '--data', data, '--out', out, '--epochs', '3', ...TINY], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!existsSync(join(out, 'config.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(stderr).toMatch(/cancelled; this starts again from epoch 1 \(no epoch had finished\): covseg train .* --resume/);
    expect(existsSync(join(out, 'checkpoints', 'last.json'))).toBe(false);
    expect(existsSync(join(out, '.lock'))).toBe(false);

    const resumed = await runCli(['train', '--data', data, '--out', out, '--resume', '--epochs', '1', ...TINY]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/no checkpoint in .* yet: starting the run again from epoch 1/);
    expect(resumed.stdout).toMatch(/run completed: 1 epoch\(s\)/);
    expect((await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('rejects bad parameters with exit 2 and names the fix', async () => {
    const data = await tinySample(6, 32);
    const out = join(await tempDir(), 'run');
    const badSize = await runCli(['train', '--data', data, '--out', out, '--size', '30', '--depth', '2']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/--size must be a multiple of 4 .* fix: try --size 32/);
    const badLoss = await runCli(['train', '--data', data, '--out', out, '--loss', 'dcie']);
    expect(badLoss.code).toBe(2);
    expect(badLoss.stderr).toMatch(/use one of: bce, dice/);
    const badClasses = await runCli(['train', '--data', data, '--out', out, '--classes', 'ggo']);
    expect(badClasses.code).toBe(2);
    expect(badClasses.stderr).toMatch(/use one of: lesion, ggo-consolidation/);
    const lossOfOtherTask = await runCli(['train', '--data', data, '--out', out, '--classes', 'ggo-consolidation', '--loss', 'bce']);
    expect(lossOfOtherTask.code).toBe(2);
    expect(lossOfOtherTask.stderr).toMatch(/use one of: ce\+dice, ce, dice, focal, tversky/);
    const badGrid = await runCli(['train', '--data', data, '--out', out, '--eval-resolution', 'native']);
    expect(badGrid.stderr).toMatch(/use one of: original, model/);
    const noData = await runCli(['train', '--data', join(data, 'nope'), '--out', out]);
    expect(noData.code).toBe(1);
    const noRun = await runCli(['eval', '--run', join(data, 'nope')]);
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toMatch(/run folder does not exist/);
  });
});
