import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendMetrics, readMetrics, truncateMetrics } from '../../../../src-main/engine/runs/run-files';
import { tempDir } from '../../../fixtures/temp-dir';

const line = (epoch: number, loss = epoch / 10) => `${JSON.stringify({ epoch, trainLoss: loss })}\n`;

describe('metrics.jsonl', () => {
  it('does not let a torn last line swallow the next epoch, even without recovery', async () => {
    const run = await tempDir();
    const file = join(run, 'metrics.jsonl');
    await writeFile(file, `${line(1)}{"epoch":2,"trainLo`);
    await appendMetrics(run, { epoch: 2, trainLoss: 0.2 });
    expect((await readMetrics<{ epoch: number; trainLoss: number }>(run)).map((r) => [r.epoch, r.trainLoss])).toEqual([
      [1, 0.1],
      [2, 0.2],
    ]);
  });

  it('drops a torn tail on open, then keeps both the old and the new record', async () => {
    const run = await tempDir();
    const file = join(run, 'metrics.jsonl');
    await writeFile(file, `${line(1)}${line(2)}{"epoch":3,"tra`);
    await truncateMetrics(run, 2);
    expect(await readFile(file, 'utf8')).toBe(`${line(1)}${line(2)}`);
    await appendMetrics(run, { epoch: 3, trainLoss: 0.3 });
    expect(await readFile(file, 'utf8')).toBe(`${line(1)}${line(2)}${line(3)}`);
  });

  it('removes epochs a resume redoes and duplicates left by repeated kills, keeping the latest line', async () => {
    const run = await tempDir();
    const file = join(run, 'metrics.jsonl');
    // Killed twice while checkpointing epoch 3: its line was written twice, the checkpoint never.
    await writeFile(file, `${line(1)}${line(2, 0.5)}${line(2)}${line(3)}${line(3)}`);
    await truncateMetrics(run, 2);
    expect(await readFile(file, 'utf8')).toBe(`${line(1)}${line(2)}`);
    await appendMetrics(run, { epoch: 3, trainLoss: 0.3 });
    const epochs = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    expect(epochs).toEqual([1, 2, 3]);
  });

  it('leaves a clean file byte for byte, and empties it for a run restarted from scratch', async () => {
    const run = await tempDir();
    const file = join(run, 'metrics.jsonl');
    await writeFile(file, `${line(1)}${line(2)}`);
    await truncateMetrics(run, 5);
    expect(await readFile(file, 'utf8')).toBe(`${line(1)}${line(2)}`);
    await truncateMetrics(run, 0);
    expect(await readFile(file, 'utf8')).toBe('');
    await expect(truncateMetrics(await tempDir(), 3)).resolves.toBeUndefined();
  });
});
