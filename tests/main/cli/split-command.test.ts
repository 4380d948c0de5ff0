import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

describe('covseg split', () => {
  let workspace: string;
  const saved = process.env.COVSEG_WORKSPACE;
  beforeEach(async () => {
    workspace = await tempDir('covseg-workspace-');
    process.env.COVSEG_WORKSPACE = workspace;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.COVSEG_WORKSPACE;
    else process.env.COVSEG_WORKSPACE = saved;
  });

  it('writes to the workspace by default, never into the dataset', async () => {
    const data = await tinySample(12, 32);
    const before = await readdir(data);
    const result = await runCli(['split', data, '--seed', '3']);
    expect(result.code).toBe(0);
    expect(await readdir(data)).toEqual(before);
    expect(existsSync(join(data, 'split.json'))).toBe(false);
    const [file] = await readdir(join(workspace, 'splits'));
    expect(file).toMatch(/-[0-9a-f]{8}-seed3\.json$/);
    expect(result.stdout).toContain(`wrote ${join(workspace, 'splits', file!)}`);
    // Same data, same seed: the same file again, which is no overwrite.
    expect((await runCli(['split', data, '--seed', '3'])).code).toBe(0);
  });

  it('refuses --out inside the dataset, and an existing file with other content unless --force', async () => {
    const data = await tinySample(12, 32);
    const inside = await runCli(['split', data, '--out', join(data, 'split.json')]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/lies inside the input .*covseg never writes into its inputs/);
    expect(existsSync(join(data, 'split.json'))).toBe(false);

    const file = join(await tempDir(), 'split.json');
    await writeFile(file, 'my notes');
    const exists = await runCli(['split', data, '--out', file]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/already exists with other content .*--force/);
    expect(await readFile(file, 'utf8')).toBe('my notes');
    expect((await runCli(['split', data, '--out', file, '--force'])).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('slices');
  });
});
