import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendProgressLine, progressFileHook } from '../../../src-main/cli/progress-file-hook';
import type { TrainingContext } from '../../../src-main/engine/training/trainer';
import { tempDir } from '../../fixtures/temp-dir';

describe('progressFileHook', () => {
  it('appends begin, throttled batch and epoch lines that a follower can parse, keeping every epoch-ending batch', async () => {
    const file = join(await tempDir(), 'progress.jsonl');
    let now = 1_000;
    const hook = progressFileHook(file, () => now);
    const context = { runDir: '/runs/r1', state: { epoch: 0 }, config: { epochs: 2 }, batchesPerEpoch: 3 } as unknown as TrainingContext;
    await hook.onTrainBegin!(context);
    for (let batch = 0; batch < 3; batch++) {
      now += 100;
      await hook.onBatchEnd!({ epoch: 0, batch, batches: 3, loss: 0.5 - batch / 10, elapsedMs: now }, context);
    }
    await hook.onEpochEnd!({ epoch: 1, trainLoss: 0.4, valLoss: 0.45, valDice: 0.3, valIou: 0.2, valPooledDice: 0.3, lr: 1e-3, seconds: 1, tensors: 10 }, { ...context, improved: true });
    await appendProgressLine(file, { type: 'end', status: 'completed', epochs: 1 });
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['begin', 'batch', 'batch', 'epoch', 'end']);
    expect(lines[0]).toMatchObject({ runDir: '/runs/r1', epoch: 0, epochs: 2, batches: 3, time: 1_000, pid: process.pid });
    // Batch 1 came 100 ms after batch 0 (under the 250 ms interval); batch 2 ends the epoch and is kept.
    expect(lines.slice(1, 3).map((l) => l.batch)).toEqual([0, 2]);
    expect(lines[3]).toMatchObject({ epoch: 1, valDice: 0.3, epochs: 2 });
  });
});
