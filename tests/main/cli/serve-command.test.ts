import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { RENDERER_DIR } from '../../../src-main/server';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';

const BUILT = existsSync(join(RENDERER_DIR, 'index.html'));
if (!BUILT) console.warn('[tests] out/renderer is absent (run `npm run build`): the running `covseg serve` test is skipped.');

/** Status of a GET to the loopback server, naming it by `host` in the Host header. */
function statusAs(port: number, host: string, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/index.html', headers: { Host: `${host}:${port}`, ...headers } }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
  });
}

describe('covseg serve', () => {
  it('refuses an --allow-host value with a port or path, naming the expected form', async () => {
    for (const bad of ['gpu-box:8765', 'http://gpu-box', 'gpu box', '']) {
      const result = await runCli(['serve', '--allow-host', bad]);
      expect(result.code, bad).toBe(2);
      expect(result.stderr).toMatch(/expected a host name or address without port or path/);
    }
  });

  it.skipIf(!BUILT)('answers requests naming the machine by an --allow-host name, and 403 to other names', async () => {
    const workspace = await tempDir();
    const bin = resolve(import.meta.dirname, '../../../bin/covseg.mjs');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--workspace', workspace, '--allow-host', 'gpu-box', '--allow-host', '[fd00::7]'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const lines = createInterface({ input: child.stdout });
      const printed = await new Promise<string>((done, fail) => {
        lines.on('line', (line) => {
          const url = line.match(/http:\/\/\S+/)?.[0];
          if (url) done(url);
        });
        child.once('exit', (code) => fail(new Error(`covseg serve exited with ${code}`)));
      });
      const url = new URL(printed);
      expect(url.hostname).toBe('127.0.0.1');
      const port = Number(url.port);
      const token = url.searchParams.get('token')!;
      const auth = { Authorization: `Bearer ${token}` };
      expect(await statusAs(port, 'gpu-box', auth)).toBe(200);
      expect(await statusAs(port, '[fd00::7]', auth)).toBe(200);
      expect(await statusAs(port, 'other-box', auth)).toBe(403);
      expect(await statusAs(port, 'gpu-box', {})).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
