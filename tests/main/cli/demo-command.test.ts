import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

describe('covseg demo', () => {
  it('refuses a --workspace holding other files or lying in a dataset, before writing anything', async () => {
    const home = await tempDir();
    await writeFile(join(home, 'thesis.tex'), 'years of work');
    const busy = await runCli(['demo', '--workspace', home, '--epochs', '1']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/--workspace .* is not empty; it holds 1 entry, e\.g\. thesis\.tex .*fix: .*--force/);
    expect(await readdir(home)).toEqual(['thesis.tex']);

    const data = await tinySample(6, 32);
    const inside = await runCli(['demo', '--workspace', join(data, 'demo'), '--epochs', '1']);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/lies inside the dataset folder/);
    expect(await readdir(data)).not.toContain('demo');
  });
});
