import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

describe('covseg augment and weather', () => {
  it('augment refuses the dataset itself and a non-empty --out, and writes into a new folder', async () => {
    const data = await tinySample(6, 32);
    const before = (await readdir(join(data, 'frames'))).length;
    const into = await runCli(['augment', '--recipe', 'fliprot+elastic', '--input', data, '--out', data]);
    expect(into.code).toBe(1);
    expect(into.stderr).toMatch(/--out .* is the input .*; covseg never writes into its inputs/);
    expect((await readdir(join(data, 'frames'))).length).toBe(before);

    const out = join(await tempDir(), 'augmented');
    expect((await runCli(['augment', '--recipe', 'fliprot+elastic', '--input', data, '--out', out])).code).toBe(0);
    expect((await readdir(join(out, 'frames'))).length).toBe(before);
    const rerun = await runCli(['augment', '--recipe', 'fliprot+elastic', '--input', data, '--out', out]);
    expect(rerun.code).toBe(1);
    expect(rerun.stderr).toMatch(/is not empty/);
  });

  it('weather refuses to overwrite generations unless --force, and the slice\'s own folder', async () => {
    const data = await tinySample(6, 32);
    const slice = join(data, 'frames', (await readdir(join(data, 'frames')))[0]!);
    const beside = await runCli(['weather', slice, '--generations', '2', '--out', join(data, 'frames')]);
    expect(beside.code).toBe(1);
    const out = await tempDir();
    const stem = slice.split('/').pop()!.replace('.png', '');
    await writeFile(join(out, `${stem}_gen002.png`), 'mine');
    const refused = await runCli(['weather', slice, '--generations', '2', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already holds 1 file\(s\) this command would overwrite/);
    expect(existsSync(join(out, `${stem}_gen001.png`))).toBe(false);
    expect((await runCli(['weather', slice, '--generations', '2', '--out', out, '--force'])).code).toBe(0);
  });
});
