import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../fixtures/real-data';
import { runCli, runCovsegBinary } from '../fixtures/run-cli';
import { tempDir } from '../fixtures/temp-dir';

describe('covseg CLI', () => {
  it('runs sample, dataset check and split end to end through the real binary', async () => {
    const dir = await tempDir();
    const sample = runCovsegBinary(['sample', '--out', `${dir}/s`, '--count', '18', '--size', '64', '--seed', '2']);
    expect(sample.stderr).toBe('');
    expect(sample.code).toBe(0);
    expect(sample.stdout).toMatch(/wrote 18 slices of 64x64 px from 3 synthetic patients/);
    const check = runCovsegBinary(['dataset', 'check', `${dir}/s`, '--json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout).validSlices).toBe(18);
    const split = runCovsegBinary(['split', `${dir}/s`, '--val', '0.34', '--test', '0.3', '--seed', '5', '--out', `${dir}/split.json`]);
    expect(split.code).toBe(0);
    expect(split.stdout).toMatch(/no overlap: 0 groups and 0 identical images/);
    const written = JSON.parse(await readFile(`${dir}/split.json`, 'utf8'));
    expect(written.stats.train.groups + written.stats.val.groups + written.stats.test.groups).toBe(3);
  });

  it('exits 2 on usage errors and 1 on failures, naming the problem', async () => {
    const usage = await runCli(['split']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing required argument 'dir'/);
    const badValue = await runCli(['sample', '--out', '/tmp/x', '--count', 'many']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/expected an integer, got "many"/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    const missing = await runCli(['dataset', 'check', '/definitely/not/here']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/dataset folder does not exist — file: \/definitely\/not\/here — fix:/);
    const regex = await runCli(['split', '/tmp', '--group-by', '(']);
    expect(regex.code).toBe(2);
  });

  it('exits 1 when the dataset has fatal problems, 0 with warnings only', async () => {
    const dir = await tempDir();
    expect((await runCli(['sample', '--out', dir, '--count', '3', '--size', '32'])).code).toBe(0);
    await writeFile(`${dir}/frames/synth_p001_s02.png`, 'broken');
    const broken = await runCli(['dataset', 'check', dir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/corrupt-file .*synth_p001_s02\.png/);
  });

  it('prints help for every command with exit 0', async () => {
    for (const args of [['--help'], ['sample', '--help'], ['dataset', 'check', '--help'], ['split', '--help'], ['demo', '--help']]) {
      const result = await runCli(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage: covseg/);
    }
  });

  it.skipIf(!HAVE_REAL_DATA)('checks and splits the real MedSeg slices', async () => {
    const dir = await tempDir();
    const check = await runCli(['dataset', 'check', REAL_DATA_DIR]);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/slices: 50 listed, 50 valid/);
    const split = await runCli(['split', REAL_DATA_DIR, '--out', `${dir}/split.json`, '--json']);
    expect(split.code).toBe(0);
    const parsed = JSON.parse(split.stdout);
    expect(parsed.slices.train.length + parsed.slices.val.length + parsed.slices.test.length).toBe(50);
  });
});
