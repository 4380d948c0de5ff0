import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../../../src-main/engine/runs/checkpoints';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { evaluateRun, predictImages } from '../../../../src-main/engine/training/evaluate-run';
import { train, type EpochLog } from '../../../../src-main/engine/training/trainer';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../../fixtures/tiny-sample';

async function finalWeights(runDir: string, which: 'last' | 'best' = 'last'): Promise<Float32Array[]> {
  const { model } = await loadCheckpoint(runDir, which);
  const values = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return values;
}

describe('trainer', () => {
  it('really learns: validation and test Dice far above the all-background baseline', async () => {
    // 48 synthetic slices at 64 px, 15 epochs of a 2-level U-Net with 8 filters (a 3-level one for 40
    // epochs on 96 slices took a minute); one worker, so the weights are the same on every machine.
    // Measured: best validation Dice 0.48 (above 0.3 from epoch 5 on), test Dice 0.39.
    const data = await tinySample(48, 64);
    const runDir = join(await tempDir(), 'run');
    const logs: EpochLog[] = [];
    const summary = await train({
      runDir,
      config: tinyConfig(data, { epochs: 15, size: 64, workers: 1, loss: 'bce+dice', model: { name: 'unet', options: { depth: 2, baseFilters: 8 } } }),
      hooks: [{ onEpochEnd: (log) => void logs.push(log) }],
    });
    expect(summary.status).toBe('completed');
    // Predicting no lesion scores Dice 0 on every lesion slice.
    expect(summary.bestValDice).toBeGreaterThan(0.3);
    expect(summary.test!.metrics.pooled.dice).toBeGreaterThan(0.3);
    expect(logs.at(-1)!.trainLoss).toBeLessThan(logs[0]!.trainLoss);
    // No tensor leak: the live tensor count is flat across epochs.
    expect(new Set(logs.map((l) => l.tensors)).size).toBe(1);
    const run = await readRun(runDir);
    expect(run.status.state).toBe('completed');
    expect(run.metrics.map((m) => m.epoch)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(run.record.backend.name).toBe('wasm');
    expect(run.record.dataset.contentHash).toMatch(/^[0-9a-f]{64}$/);
    // A guard, not a speed target: the run takes seconds alone, a minute on a loaded machine.
  }, 360_000);

  it('saves checkpoints that load back to identical predictions', async () => {
    const data = await tinySample();
    const runDir = join(await tempDir(), 'run');
    const summary = await train({ runDir, config: tinyConfig(data) });
    const again = await evaluateRun(runDir);
    expect(again.metrics).toEqual(summary.test!.metrics);
    expect(again.loss).toBeCloseTo(summary.test!.loss, 6);
    const out = await tempDir();
    const first = await predictImages(runDir, join(data, 'frames'), join(out, 'a'));
    const second = await predictImages(runDir, join(data, 'frames'), join(out, 'b'));
    expect(first.length).toBe(24);
    for (let i = 0; i < first.length; i++) expect(await readFile(second[i]!)).toEqual(await readFile(first[i]!));
  });

  it('resumes at the right epoch with the same optimizer state: same weights as an uninterrupted run', async () => {
    const data = await tinySample();
    const straight = join(await tempDir(), 'straight');
    await train({ runDir: straight, config: tinyConfig(data, { epochs: 3 }) });
    const interrupted = join(await tempDir(), 'interrupted');
    await train({ runDir: interrupted, config: tinyConfig(data, { epochs: 1 }) });
    const seen: number[] = [];
    await train({ runDir: interrupted, config: tinyConfig(data), resume: true, epochs: 3, hooks: [{ onEpochBegin: (epoch) => void seen.push(epoch) }] });
    expect(seen).toEqual([1, 2]);
    const a = await finalWeights(straight);
    const b = await finalWeights(interrupted);
    expect(b.length).toBe(a.length);
    for (let k = 0; k < a.length; k++) expect(Array.from(b[k]!)).toEqual(Array.from(a[k]!));
    const { optimizer } = await loadCheckpoint(interrupted, 'last');
    expect(optimizer.step).toBe(3 * Math.ceil((await readRun(interrupted)).record.split.train.length / 4));
  });

  it('resumes a SegFormer run (dropout, stochastic depth, two workers) to the same weights as an uninterrupted run', async () => {
    const data = await tinySample(16, 32);
    // High rates so that a different mask would surely change the weights.
    const config = (epochs: number) =>
      tinyConfig(data, { epochs, batch: 4, workers: 2, model: { name: 'segformer', options: { variant: 'b0', dropPath: 0.5, dropout: 0.5 } }, optimizer: { name: 'adamw', weightDecay: 0.01 } });
    const straight = join(await tempDir(), 'straight');
    await train({ runDir: straight, config: config(2) });
    const interrupted = join(await tempDir(), 'interrupted');
    await train({ runDir: interrupted, config: config(1) });
    await train({ runDir: interrupted, config: config(1), resume: true, epochs: 2 });
    const a = await finalWeights(straight);
    const b = await finalWeights(interrupted);
    for (let k = 0; k < a.length; k++) expect(Array.from(b[k]!)).toEqual(Array.from(a[k]!));
  }, 240_000);

  it('cancels after the current batch and leaves a valid, resumable run', async () => {
    const data = await tinySample();
    const runDir = join(await tempDir(), 'run');
    const controller = new AbortController();
    let batches = 0;
    const summary = await train({
      runDir,
      config: tinyConfig(data, { epochs: 3 }),
      signal: controller.signal,
      hooks: [
        {
          onBatchEnd: (log) => {
            batches++;
            if (log.epoch === 1 && log.batch === 0) controller.abort();
          },
        },
      ],
    });
    expect(summary.status).toBe('cancelled');
    expect(summary.epochs).toBe(1);
    const run = await readRun(runDir);
    expect(run.status.state).toBe('cancelled');
    expect(run.metrics).toHaveLength(1);
    const resumed = await train({ runDir, config: tinyConfig(data), resume: true });
    expect(resumed.status).toBe('completed');
    expect(resumed.epochs).toBe(3);
    expect(batches).toBeGreaterThan(1);
  });

  it('reports damaged run folders by file, and refuses to overwrite a run', async () => {
    const data = await tinySample();
    const runDir = join(await tempDir(), 'run');
    await train({ runDir, config: tinyConfig(data, { epochs: 1 }) });
    await expect(train({ runDir, config: tinyConfig(data) })).rejects.toThrow(/already holds a run/);
    const pointer = JSON.parse(await readFile(join(runDir, 'checkpoints', 'last.json'), 'utf8')) as { dir: string };
    const weights = join(runDir, 'checkpoints', pointer.dir, 'weights.bin');
    await writeFile(weights, Buffer.alloc(10));
    await expect(loadCheckpoint(runDir, 'last')).rejects.toMatchObject({ code: 'bad-run', file: weights });
    await writeFile(join(runDir, 'config.json'), '{ torn');
    await expect(readRun(runDir)).rejects.toMatchObject({ code: 'bad-run', file: join(runDir, 'config.json') });
    await expect(readRun(join(runDir, 'nope'))).rejects.toMatchObject({ code: 'not-found' });
  });

  it('keeps the tensor count flat and frees the model at the end', async () => {
    const before = tf.memory().numTensors;
    const data = await tinySample();
    await train({ runDir: join(await tempDir(), 'run'), config: tinyConfig(data, { epochs: 1 }) });
    expect(tf.memory().numTensors).toBe(before);
  });
});
