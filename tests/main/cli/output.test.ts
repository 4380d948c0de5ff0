import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportError } from '../../../src-main/cli/output';
import { CovsegError } from '../../../src-main/engine/errors';
import { tempDir } from '../../fixtures/temp-dir';

function report(error: unknown): { code: number; text: string } {
  const lines: string[] = [];
  const code = reportError(error, { out: () => undefined, err: (t) => lines.push(t), interactive: false });
  return { code, text: lines.join('\n') };
}

describe('reportError', () => {
  it('turns a file-system error into one line with the path and a fix, no stack trace', async () => {
    const dir = await tempDir();
    const missing = await readFile(join(dir, 'nope.json')).catch((e: unknown) => e);
    const { code, text } = report(missing);
    expect(code).toBe(1);
    expect(text).toBe(`error: ENOENT (open failed: no such file or directory, open '${join(dir, 'nope.json')}') — file: ${join(dir, 'nope.json')} — fix: check the path, that it is the kind of entry expected (file or folder) and its permissions`);
    const folder = await readFile(dir).catch((e: unknown) => e);
    expect(report(folder).text).toMatch(/^error: EISDIR \(read failed/);
    expect(report(folder).text).not.toMatch(/\n\s+at /);
  });

  it('keeps the stack for real bugs, and maps engine errors to their exit codes', () => {
    expect(report(new TypeError('x is undefined')).text).toMatch(/TypeError: x is undefined\n\s+at /);
    expect(report(new CovsegError('busy', 'in use')).code).toBe(1);
    expect(report(new CovsegError('bad-parameter', '--depth')).code).toBe(2);
  });
});
