import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import { readPairs, writePairs } from '../../../src-main/engine/gan/pairs-file';
import { createRandom } from '../../../src-main/engine/random/seeded-random';
import { pairRecord } from '../../fixtures/generated-pairs';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(4, '0')}`);

async function folderWith(n: number, quality?: (i: number) => GeneratedPair['quality']): Promise<string> {
  const dir = await tempDir('covseg-curate-');
  await writePairs(
    dir,
    ids(n).map((id, i) => {
      const record = pairRecord(id, [`real${i}`]);
      const q = quality?.(i);
      return q ? { ...record, quality: q } : record;
    }),
  );
  return dir;
}

const quality = (ssim: number, dice: number | null): GeneratedPair['quality'] => ({ nearestTrainId: 'real7', ssimToNearest: ssim, l1ToNearest: 0.01, nearCopy: ssim >= 0.95, segmentabilityDice: dice, lesionContrast: 200 });

describe('pairs.jsonl', () => {
  it('round-trips every field of a record, quality and decision included', async () => {
    const dir = await tempDir('covseg-pairs-');
    const records: GeneratedPair[] = [
      { ...pairRecord('a', ['s1', 's2'], 'gans/dagan', 2), maskOrigin: 'elastic', seed: 42, quality: quality(0.5, 0.8), decision: { state: 'rejected', by: 'ana', at: '2026-01-01T00:00:00.000Z', reason: 'blurry' } },
      pairRecord('b', ['s3']),
    ];
    await writePairs(dir, records);
    expect(await readPairs(dir)).toEqual(records);
  });
});

describe('covseg gan curate', () => {
  it('accepts, rejects and undoes by id, recording who, when and why', async () => {
    const dir = await folderWith(5);
    const before = Date.now();
    const result = await runCli(['gan', 'curate', dir, '--accept', 'p0000,p0001', '--reject', 'p0002', '--reason', 'lung cut off', '--by', 'ana']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('accepted p0000');
    expect(result.stdout).toContain('folder now 2 accepted, 1 rejected, 2 pending');
    let pairs = await readPairs(dir);
    expect(pairs[0]!.decision).toMatchObject({ state: 'accepted', by: 'ana', reason: 'lung cut off' });
    expect(Date.parse(pairs[0]!.decision.at!)).toBeGreaterThanOrEqual(before - 1000);
    expect(pairs[2]!.decision).toMatchObject({ state: 'rejected', by: 'ana' });
    expect(pairs[3]!.decision).toEqual({ state: 'pending' });
    expect((await runCli(['gan', 'curate', dir, '--undo', 'p0000'])).code).toBe(0);
    pairs = await readPairs(dir);
    expect(pairs[0]!.decision).toEqual({ state: 'pending' });
    expect(pairs[1]!.decision.state).toBe('accepted');
  });

  it('refuses an unknown id before writing anything', async () => {
    const dir = await folderWith(3);
    const original = await readFile(join(dir, 'pairs.jsonl'), 'utf8');
    const result = await runCli(['gan', 'curate', dir, '--accept', 'p0000,nope']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('nope');
    expect(await readFile(join(dir, 'pairs.jsonl'), 'utf8')).toBe(original);
  });

  it('auto-rejects pending near-copies and unsegmentable pairs by threshold, keeping human decisions', async () => {
    const figures: [number, number | null][] = [
      [0.97, 0.8], // near-copy
      [0.5, 0.1], // not segmentable
      [0.5, 0.8], // fine
      [0.99, 0.9], // near-copy, but a person already accepted it
      [0.5, null], // no model figure: kept
    ];
    const dir = await folderWith(5, (i) => quality(...figures[i]!));
    expect((await runCli(['gan', 'curate', dir, '--accept', 'p0003', '--by', 'ana'])).code).toBe(0);
    const result = await runCli(['gan', 'curate', dir, '--auto-reject']);
    expect(result.code).toBe(0);
    const pairs = await readPairs(dir);
    expect(pairs.map((p) => p.decision.state)).toEqual(['rejected', 'rejected', 'pending', 'accepted', 'pending']);
    expect(pairs[0]!.decision.by).toBe('auto-reject');
    expect(pairs[0]!.decision.reason).toContain('near-copy of training slice real7 (SSIM 0.970 >= 0.95)');
    expect(pairs[1]!.decision.reason).toContain('Dice 0.100 < 0.3');
    // Stricter thresholds given on the command line.
    expect((await runCli(['gan', 'curate', dir, '--auto-reject', '--min-dice', '0.9'])).code).toBe(0);
    expect((await readPairs(dir))[2]!.decision.state).toBe('rejected');
  });

  it('a curate killed with SIGKILL at random moments loses no decision it reported and never corrupts pairs.jsonl', async () => {
    const count = 1000;
    const dir = await folderWith(count);
    const bin = resolve(import.meta.dirname, '../../../bin/covseg.mjs');
    const all = ids(count);
    // Killed at a seeded random moment while it writes: after the k-th piece of output it sent.
    const run = (killOnOutput: number) =>
      new Promise<{ reported: string[]; killed: boolean }>((done, fail) => {
        const child = spawn(process.execPath, [bin, 'gan', 'curate', dir, '--accept', all.join(','), '--by', 'kill-test'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let pieces = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (++pieces === killOnOutput) child.kill('SIGKILL');
        });
        child.on('error', fail);
        child.on('close', (_code, signal) => {
          // Only whole lines count as reported: a line cut by the kill was not finished being said.
          const lines = stdout.split('\n').slice(0, stdout.endsWith('\n') ? undefined : -1);
          done({ reported: lines.filter((l) => l.startsWith('accepted ')).map((l) => l.slice('accepted '.length).trim()), killed: signal === 'SIGKILL' });
        });
      });
    const random = createRandom(9);
    let killedMidway = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) expect((await runCli(['gan', 'curate', dir, '--undo', all.join(',')])).code).toBe(0);
      const { reported, killed } = await run(1 + random.int(20));
      const pairs = await readPairs(dir); // throws if the file were torn
      expect(pairs.map((p) => p.id)).toEqual(all);
      const accepted = new Set(pairs.filter((p) => p.decision.state === 'accepted').map((p) => p.id));
      for (const id of reported) expect(accepted.has(id)).toBe(true);
      if (killed && reported.length > 0 && reported.length < count) killedMidway++;
    }
    // The kills must really land mid-way, or the test proves nothing.
    expect(killedMidway).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
