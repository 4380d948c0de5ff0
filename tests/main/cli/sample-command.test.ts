import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';

describe('covseg sample', () => {
  it('never writes over an existing dataset or into a non-empty folder without --force', async () => {
    const dir = await tempDir();
    const data = join(dir, 'data');
    expect((await runCli(['sample', '--out', data, '--count', '3', '--size', '32'])).code).toBe(0);
    // Someone corrected a mask by hand: a second sample run must not silently replace it.
    const mask = join(data, 'masks', (await readdir(join(data, 'masks')))[0]!);
    await writeFile(mask, 'hand-corrected');
    const again = await runCli(['sample', '--out', data, '--count', '3', '--size', '32']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`--out ${data} is not empty \\(it is a dataset: frames/ and masks/\\).* fix: .*--force`));
    expect(await readFile(mask, 'utf8')).toBe('hand-corrected');

    expect((await runCli(['sample', '--out', data, '--count', '3', '--size', '32', '--force'])).code).toBe(0);
    expect(await readFile(mask, 'utf8')).not.toBe('hand-corrected');
  });

  it('refuses a file as --out without a stack trace', async () => {
    const file = join(await tempDir(), 'a-file');
    await writeFile(file, 'x');
    const result = await runCli(['sample', '--out', file, '--count', '1', '--size', '32']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--out .*a-file is a file, but a folder is expected/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
