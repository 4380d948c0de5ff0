import { existsSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { createModel } from '../../../../src-main/engine/models/registry';
import { loadCheckpoint, readPointer, saveCheckpoint } from '../../../../src-main/engine/runs/checkpoints';
import { appendMetrics, ensureRunDir, readMetrics } from '../../../../src-main/engine/runs/run-files';
import { createAdamState } from '../../../../src-main/engine/training/adam';
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from '../../../fixtures/tmpfs';

const unavailable = smallDiskUnavailable();
if (unavailable) console.warn(`checkpoints.test.ts: disk-full tests skipped, a tmpfs cannot be mounted here (${unavailable})`);

/** Fills the disk holding `dir` with one file, then frees `keep` bytes of it; returns the filler. */
async function fillDisk(dir: string, keep: number): Promise<string> {
  const filler = join(dir, 'filler');
  const handle = await open(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
  const { size } = await handle.stat();
  await handle.truncate(Math.max(0, size - keep));
  await handle.close();
  return filler;
}

describe('checkpoints on a full disk', () => {
  let disk: SmallDisk | undefined;
  beforeAll(async () => {
    await selectBackend('wasm');
  });
  afterEach(() => {
    disk?.unmount();
    disk = undefined;
  });

  it.skipIf(unavailable)('say "disk full", remove the partial checkpoint, keep the last good one, and load after space is freed', async () => {
    const mounted = mountSmallDisk(2 * 1024 * 1024);
    if (typeof mounted === 'string') throw new Error(mounted);
    disk = mounted;
    const runDir = join(disk.dir, 'run');
    await ensureRunDir(runDir);
    const model = createModel('unet', { depth: 2, baseFilters: 4 });
    const optimizer = createAdamState(model.trainableWeights.map((w) => w.read().size));
    const state = { epoch: 1, bestEpoch: 1, bestValDice: 0.5, epochsWithoutImprovement: 0 };
    await saveCheckpoint(runDir, model, optimizer, state, true);
    const weights = (await stat(join(runDir, 'checkpoints', 'epoch-0001', 'weights.bin'))).size;
    // Room for the weights of the next checkpoint, not for its optimizer moments (twice as large).
    const filler = await fillDisk(disk.dir, weights + 16 * 1024);

    const error = await saveCheckpoint(runDir, model, optimizer, { ...state, epoch: 2, bestEpoch: 2 }, true).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'disk-full' });
    expect((error as Error).message).toBe('disk full while saving the checkpoint of epoch 2; the partial checkpoint was removed');
    expect((error as { fix: string }).fix).toContain(`the last good checkpoint (epoch 1) is untouched`);
    expect((error as { fix: string }).fix).toContain(`covseg train --out ${runDir} --resume`);
    expect(await readdir(join(runDir, 'checkpoints'))).toEqual(['best.json', 'epoch-0001', 'last.json']);
    expect(await readPointer(runDir, 'last')).toEqual({ dir: 'epoch-0001', epoch: 1 });
    expect(await readPointer(runDir, 'best')).toEqual({ dir: 'epoch-0001', epoch: 1 });

    await rm(filler);
    const loaded = await loadCheckpoint(runDir, 'last');
    expect(loaded.state.epoch).toBe(1);
    loaded.model.dispose();
    model.dispose();
  });

  it.skipIf(unavailable)('metrics.jsonl: a full disk is reported as such, and the torn line does not survive the next open', async () => {
    const mounted = mountSmallDisk(256 * 1024);
    if (typeof mounted === 'string') throw new Error(mounted);
    disk = mounted;
    const runDir = join(disk.dir, 'run');
    await ensureRunDir(runDir);
    await appendMetrics(runDir, { epoch: 1, trainLoss: 0.1 });
    const filler = await fillDisk(disk.dir, 0);
    const error = await appendMetrics(runDir, { epoch: 2, trainLoss: 0.2, padding: 'x'.repeat(64 * 1024) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'disk-full' });
    expect((error as Error).message).toBe(`disk full: could not write ${join(runDir, 'metrics.jsonl')}`);
    await rm(filler);
    expect((await readMetrics(runDir)).map((r) => r.epoch)).toEqual([1]);
    expect(existsSync(join(runDir, 'metrics.jsonl'))).toBe(true);
    expect((await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).startsWith('{"epoch":1')).toBe(true);
  });
});
