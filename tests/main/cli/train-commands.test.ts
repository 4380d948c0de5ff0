import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
