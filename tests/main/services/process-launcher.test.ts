import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeProcessLauncher } from '../../../src-main/services/process-launcher';
import { tempDir } from '../../fixtures/temp-dir';

describe('nodeProcessLauncher', () => {
  it('runs covseg detached in its own process group, its output and exit code reaching the log and the caller without a pipe', async () => {
    const dir = await tempDir();
    const logFile = join(dir, 'run.log');
    const launched = await nodeProcessLauncher(['train', '--data', join(dir, 'no-such-dataset'), '--out', join(dir, 'run')], { logFile });
    expect(launched.pid).toBeGreaterThan(0);
    if (process.platform !== 'win32') {
      // Its own group: a Ctrl-C or hang-up aimed at the server's group does not reach it.
      const group = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(launched.pid)]).toString().trim());
      expect(group).toBe(launched.pid);
    }
    expect((await launched.exited).code).toBe(1);
    expect(await readFile(logFile, 'utf8')).toMatch(/^error: .*no-such-dataset/m);
  });
});
