import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import { createGanNetworks, type NetworkOptions } from '../../../../src-main/engine/gan/gan-networks';
import type { GanRecord } from '../../../../src-main/engine/gan/gan-record';
import { ganWeightOrder, netOptimizer, parallelGanStepEngine, singleGanStepEngine, type GanBatch, type GanStepLosses } from '../../../../src-main/engine/gan/gan-step';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { maxRelativeError } from '../../../fixtures/relative-error';
import { runCli } from '../../../fixtures/run-cli';
import { tempDir } from '../../../fixtures/temp-dir';

const SIZE = 32;
const options = (kind: 'pix2pix' | 'dagan'): NetworkOptions => ({ kind, size: SIZE, planes: 2, generatorFilters: 4, discriminatorFilters: 4, seed: 3 });

/** A seeded batch of `count` rows: blobs as condition planes, smooth images in -1..1 (and references for DAGAN). */
function batchOf(count: number, withReference: boolean, seed: number): GanBatch {
  const random = createRandom(seed);
  const plane = SIZE * SIZE;
  const image = Float32Array.from({ length: count * plane }, (_, i) => Math.sin(i * 0.05 + random.next()) * 0.8);
  const condition = Float32Array.from({ length: count * plane * 2 }, () => (random.next() > 0.85 ? 1 : 0));
  return { count, size: SIZE, planes: 2, image, condition, ...(withReference ? { reference: Float32Array.from({ length: count * plane }, () => random.uniform(-1, 1)) } : {}) };
}

/** Three alternating steps (batches of 4, 4 and an uneven 3) on one or two workers: the losses and every value of both networks. */
async function threeSteps(kind: 'pix2pix' | 'dagan', workers: 1 | 2): Promise<{ losses: GanStepLosses[]; weights: Float32Array }> {
  const nets = createGanNetworks(options(kind));
  const optimizers = { g: netOptimizer(nets.g), d: netOptimizer(nets.d) };
  const engine = workers === 2 ? await parallelGanStepEngine(nets, optimizers, { backend: 'wasm', networks: options(kind) }) : singleGanStepEngine(nets, optimizers);
  try {
    expect(engine.workers).toBe(workers);
    const losses: GanStepLosses[] = [];
    for (const [step, count] of [4, 4, 3].entries()) losses.push(await engine.step(batchOf(count, nets.usesReference, step), 2e-4, 1000 + step));
    const values = ganWeightOrder(nets).flatMap((v) => Array.from(v.dataSync() as Float32Array));
    return { losses, weights: Float32Array.from(values) };
  } finally {
    await engine.dispose();
    nets.dispose();
  }
}

describe('data-parallel GAN steps (two workers)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('draws each sample\'s dropout and noise from (seed, sample), so a split batch generates what the whole batch does', () => {
    for (const kind of ['pix2pix', 'dagan'] as const) {
      const nets = createGanNetworks(options(kind));
      const batch = batchOf(4, nets.usesReference, 9);
      const generated = (from: number, to: number) =>
        tf.tidy(() => {
          const rows = to - from;
          const plane = SIZE * SIZE;
          const condition = tf.tensor4d(batch.condition.slice(from * plane * 2, to * plane * 2), [rows, SIZE, SIZE, 2]);
          const reference = batch.reference ? tf.tensor4d(batch.reference.slice(from * plane, to * plane), [rows, SIZE, SIZE, 1]) : undefined;
          return nets.generate(condition, reference, 77, from).dataSync() as Float32Array;
        });
      const whole = generated(0, 4);
      const halves = Float32Array.from([...generated(0, 2), ...generated(2, 4)]);
      expect(maxRelativeError(halves, whole), kind).toBeLessThan(1e-5);
      // The noise differs between samples: the second half is not the first half's masks again.
      const firstRowAgain = generated(0, 1);
      const secondRowAsFirst = tf.tidy(() => {
        const plane = SIZE * SIZE;
        const condition = tf.tensor4d(batch.condition.slice(plane * 2, 2 * plane * 2), [1, SIZE, SIZE, 2]);
        const reference = batch.reference ? tf.tensor4d(batch.reference.slice(plane, 2 * plane), [1, SIZE, SIZE, 1]) : undefined;
        return nets.generate(condition, reference, 77, 0).dataSync() as Float32Array;
      });
      expect(maxRelativeError(firstRowAgain, whole.subarray(0, SIZE * SIZE))).toBeLessThan(1e-5);
      expect(maxRelativeError(secondRowAsFirst, whole.subarray(SIZE * SIZE, 2 * SIZE * SIZE)), kind).toBeGreaterThan(1e-3);
      nets.dispose();
    }
  });

  // DAGAN: the spectral-norm vectors travel with the weights. pix2pix is compared end to end below.
  it('dagan: two workers give single-worker losses and weights up to float rounding', async () => {
    const one = await threeSteps('dagan', 1);
    const two = await threeSteps('dagan', 2);
    one.losses.forEach((l, k) => {
      for (const key of ['dLoss', 'gLoss', 'l1'] as const) expect(Math.abs(two.losses[k]![key] - l[key]) / Math.abs(l[key]), `${key} at step ${k + 1}`).toBeLessThan(1e-4);
    });
    expect(maxRelativeError(two.weights, one.weights)).toBeLessThan(1e-4);
    // Not trivially equal: the halves were really computed apart and averaged.
    expect(Array.from(two.weights)).not.toEqual(Array.from(one.weights));
  }, 60_000);
});

/** Every network value (generator, discriminator, spectral-norm state) and Adam moment of a GAN folder's last checkpoint. */
async function checkpointValues(ganDir: string): Promise<Float32Array> {
  const pointer = JSON.parse(await readFile(join(ganDir, 'checkpoints', 'last.json'), 'utf8')) as { dir: string };
  const bytes = await readFile(join(ganDir, 'checkpoints', pointer.dir, 'tensors.bin'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The network values (`g:` and `d:` entries) of a GAN folder's last checkpoint, in manifest order. */
async function networkValues(ganDir: string): Promise<Float32Array> {
  const pointer = JSON.parse(await readFile(join(ganDir, 'checkpoints', 'last.json'), 'utf8')) as { dir: string };
  const manifest = JSON.parse(await readFile(join(ganDir, 'checkpoints', pointer.dir, 'manifest.json'), 'utf8')) as { tensors: { name: string; offset: number; length: number }[] };
  const all = await checkpointValues(ganDir);
  return Float32Array.from(manifest.tensors.filter((t) => /^[gd]:/.test(t.name)).flatMap((t) => Array.from(all.subarray(t.offset, t.offset + t.length))));
}

const epochLosses = async (ganDir: string) =>
  (await readFile(join(ganDir, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { gLoss: number; dLoss: number; l1: number });

describe('covseg gan train --workers (pix2pix)', () => {
  it('2 workers train what 1 does up to float rounding, record the count, and are deterministic: resumed after epoch 1, bit-identical to straight through', async () => {
    const dir = await tempDir('covseg-gan-workers-');
    const data = join(dir, 'data');
    const split = join(dir, 'split.json');
    await writeSyntheticSample(data, { count: 16, size: 64, seed: 7 });
    expect((await runCli(['split', data, '--out', split, '--val', '0.25', '--test', '0.25'])).code).toBe(0);
    const tiny = ['gan', 'train', '--data', data, '--split', split, '--size', '32', '--batch', '4', '--filters', '4', '--backend', 'wasm'];
    const straight = await runCli([...tiny, '--out', join(dir, 'straight'), '--epochs', '2', '--workers', '2']);
    expect(straight.code, straight.stderr).toBe(0);
    expect(straight.stderr).toMatch(/2 worker\(s\)/);
    const single = await runCli([...tiny, '--out', join(dir, 'single'), '--epochs', '2', '--workers', '1']);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stderr).toMatch(/1 worker\(s\)/);

    const [two, one] = [await networkValues(join(dir, 'straight')), await networkValues(join(dir, 'single'))];
    expect(maxRelativeError(two, one)).toBeLessThan(1e-4);
    expect(Array.from(two)).not.toEqual(Array.from(one));
    const [twoLosses, oneLosses] = [await epochLosses(join(dir, 'straight')), await epochLosses(join(dir, 'single'))];
    oneLosses.forEach((l, k) => {
      for (const key of ['dLoss', 'gLoss', 'l1'] as const) expect(Math.abs(twoLosses[k]![key] - l[key]) / Math.abs(l[key]), `${key} of epoch ${k + 1}`).toBeLessThan(1e-4);
    });

    expect((await runCli([...tiny, '--out', join(dir, 'resumed'), '--epochs', '1', '--workers', '2'])).code).toBe(0);
    const resumed = await runCli([...tiny, '--out', join(dir, 'resumed'), '--epochs', '2', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after epoch 1/);
    // Weights, spectral-norm state and Adam moments: the same config trained twice gives the same bits.
    expect(Array.from(await checkpointValues(join(dir, 'resumed')))).toEqual(Array.from(await checkpointValues(join(dir, 'straight'))));

    const record = async (name: string) => JSON.parse(await readFile(join(dir, name, 'gan.json'), 'utf8')) as GanRecord;
    expect((await record('straight')).workers).toBe(2);
    expect((await record('resumed')).workers).toBe(2);
    expect((await record('single')).workers).toBe(1);
    const refused = await runCli([...tiny, '--out', join(dir, 'three'), '--workers', '3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--workers must be 0 \(auto\), 1 or 2/);
  }, 120_000);
});
