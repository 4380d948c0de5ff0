import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { train } from '../../../../src-main/engine/training/trainer';
import { runCli } from '../../../fixtures/run-cli';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../../fixtures/tiny-sample';

describe('a training process killed mid-run', () => {
  it('holds off a second writer, then leaves a readable run that resumes from its last checkpoint', async () => {
    const data = await tinySample();
    const runDir = join(await tempDir(), 'run');
    const bin = resolve(import.meta.dirname, '../../../../bin/covseg.mjs');
    const child = spawn(process.execPath, [bin, 'train', '--data', data, '--out', runDir, '--epochs', '200', '--size', '32', '--depth', '2', '--base-filters', '4', '--backend', 'wasm'], { stdio: 'ignore' });
    const lastPointer = join(runDir, 'checkpoints', 'last.json');
    const deadline = Date.now() + 120_000;
    while (!existsSync(lastPointer) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lastPointer)).toBe(true);
    // A second writer, fresh or resuming, is turned away naming the holder, and changes nothing.
    const config = readFileSync(join(runDir, 'config.json'), 'utf8');
    for (const extra of [[], ['--resume']]) {
      const second = await runCli(['train', '--data', data, '--out', runDir, '--epochs', '1', '--size', '32', '--depth', '2', '--base-filters', '4', '--backend', 'wasm', ...extra]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`is in use by covseg train \\(pid ${child.pid} on ${hostname()}, since `));
    }
    expect(readFileSync(join(runDir, 'config.json'), 'utf8')).toBe(config);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const run = await readRun(runDir);
    expect(run.status.state).toBe('cancelled');
    expect(run.status.error).toMatch(/interrupted/);
    // The kill may land anywhere, even between a checkpoint and the status line: the checkpoint rules.
    const saved = (JSON.parse(readFileSync(lastPointer, 'utf8')) as { epoch: number }).epoch;
    expect(saved).toBeGreaterThanOrEqual(1);
    const resumed = await train({ runDir, config: tinyConfig(data), resume: true, epochs: saved + 1 });
    expect(resumed.status).toBe('completed');
    expect(resumed.epochs).toBe(saved + 1);
    expect((await readRun(runDir)).metrics.map((m) => m.epoch)).toEqual(Array.from({ length: saved + 1 }, (_, i) => i + 1));
    // The file itself, not only its reader, holds each epoch once: the killed epoch's line is gone.
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual(Array.from({ length: saved + 1 }, (_, i) => i + 1));
    expect(existsSync(join(runDir, '.lock'))).toBe(false);
  });
});
