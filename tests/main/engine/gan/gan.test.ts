import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import type { GanRecord } from '../../../../src-main/engine/gan/gan-record';
import { createParamStore } from '../../../../src-main/engine/gan/network/params';
import { powerIterate, spectralNormalised, type Net } from '../../../../src-main/engine/gan/network/ops';
import { readPairs, updatePairs } from '../../../../src-main/engine/gan/pairs-file';
import type { GanEpochLog } from '../../../../src-main/engine/gan/train-gan';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import type { RunRecord } from '../../../../src-main/engine/training/trainer';
import { runCli } from '../../../fixtures/run-cli';

let dir = '';
const data = () => join(dir, 'data');
const split = () => join(dir, 'split.json');
// One worker: these tests are about what a GAN makes; gan-step.test.ts covers two workers.
const TINY = ['--size', '32', '--batch', '4', '--filters', '4', '--backend', 'wasm', '--workers', '1'];
const TINY_RUN = ['--epochs', '1', '--size', '32', '--depth', '2', '--base-filters', '4', '--backend', 'wasm'];

async function metrics(ganDir: string): Promise<GanEpochLog[]> {
  return (await readFile(join(ganDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as GanEpochLog);
}

describe('GAN synthesis (pix2pix, DAGAN, generation, leakage guard, lineage)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'covseg-gan-'));
    await writeSyntheticSample(data(), { count: 16, size: 64, seed: 7 });
    expect((await runCli(['split', data(), '--out', split(), '--val', '0.25', '--test', '0.25'])).code).toBe(0);
    const trained = await runCli(['gan', 'train', '--data', data(), '--split', split(), '--out', join(dir, 'p2p'), '--epochs', '3', ...TINY]);
    expect(trained.stderr).toMatch(/epoch 3\/3 +G loss/);
    expect(trained.code).toBe(0);
  }, 120_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('pix2pix trains on the split\'s training slices only: losses move, tensors stay flat, a sample grid per epoch, the split recorded', async () => {
    const gan = join(dir, 'p2p');
    const lines = await metrics(gan);
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(lines[2]!.l1).toBeLessThan(lines[0]!.l1);
    expect(lines[2]!.gLoss).not.toBe(lines[0]!.gLoss);
    expect(lines[2]!.dLoss).not.toBe(lines[0]!.dLoss);
    expect(lines[2]!.tensors).toBe(lines[1]!.tensors);
    expect(await readdir(join(gan, 'samples'))).toEqual(['epoch-001.png', 'epoch-002.png', 'epoch-003.png']);
    const record = JSON.parse(await readFile(join(gan, 'gan.json'), 'utf8')) as GanRecord;
    const splitFile = JSON.parse(await readFile(split(), 'utf8')) as { slices: { train: string[] } };
    expect(record.split.train).toEqual(splitFile.slices.train);
    expect(record.split.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record).toMatchObject({ kind: 'pix2pix', generation: 1, classes: 'ggo-consolidation', pairs: [] });
  });

  it('generation is deterministic per seed and writes the Kaggle layout with class maps and pending records', async () => {
    const gan = join(dir, 'p2p');
    for (const [out, seed] of [['g1', '5'], ['g2', '5'], ['g3', '6']] as const) {
      const result = await runCli(['gan', 'generate', '--gan', gan, '--count', '5', '--out', join(dir, out), '--seed', seed]);
      expect(result.code, result.stderr).toBe(0);
    }
    const bytes = async (out: string) => Promise.all(['frames', 'masks', 'labels'].flatMap((folder) => [1, 2, 3, 4, 5].map((i) => readFile(join(dir, out, folder, `gan_0000${i}.png`)))));
    const [a, b, c] = await Promise.all([bytes('g1'), bytes('g2'), bytes('g3')]);
    a.forEach((buffer, k) => expect(buffer.equals(b[k]!)).toBe(true));
    expect(a.slice(0, 5).some((buffer, k) => !buffer.equals(c[k]!))).toBe(true);
    const pairs = await readPairs(join(dir, 'g1'));
    expect(pairs).toHaveLength(5);
    for (const pair of pairs) {
      expect(pair.decision).toEqual({ state: 'pending' });
      expect(pair.quality).toBeUndefined();
      expect(pair.generator).toMatchObject({ kind: 'pix2pix', epoch: 3, generation: 1 });
      expect(pair.sources.length).toBeGreaterThan(0);
    }
    // Never into an input: the dataset itself is refused.
    const intoData = await runCli(['gan', 'generate', '--gan', gan, '--count', '1', '--out', join(data(), 'frames', 'x')]);
    expect(intoData.code).toBe(1);
    expect(intoData.stderr).toMatch(/never writes into/);
  });

  it('the leakage guard refuses a run on another split or without one; a run on the GAN\'s split records all, then accepted pairs', async () => {
    const other = join(dir, 'split-other.json');
    expect((await runCli(['split', data(), '--out', other, '--seed', '9', '--val', '0.25', '--test', '0.25'])).code).toBe(0);
    const leaky = await runCli(['train', '--data', data(), '--split', other, '--out', join(dir, 'r-leak'), '--recipe', 'origin+gan', '--gan-dir', join(dir, 'g1'), ...TINY_RUN]);
    expect(leaky.code).toBe(1);
    expect(leaky.stderr).toMatch(/validates or tests on|different split/);
    expect(leaky.stderr).toContain(`--split ${split()}`);
    expect(existsSync(join(dir, 'r-leak'))).toBe(false);
    const noSplit = await runCli(['train', '--data', data(), '--out', join(dir, 'r-nosplit'), '--recipe', 'origin+gan', '--gan-dir', join(dir, 'g1'), ...TINY_RUN]);
    expect(noSplit.stderr).toMatch(/has no --split/);

    const all = await runCli(['train', '--data', data(), '--split', split(), '--out', join(dir, 'r-all'), '--recipe', 'origin+gan', '--gan-dir', join(dir, 'g1'), ...TINY_RUN]);
    expect(all.code, all.stderr).toBe(0);
    const allRecord = JSON.parse(await readFile(join(dir, 'r-all', 'config.json'), 'utf8')) as RunRecord;
    expect(allRecord.gan).toMatchObject({ selection: 'all', available: 5, used: 5 });

    await updatePairs(join(dir, 'g1'), (pairs) => {
      pairs[0]!.decision = { state: 'accepted', by: 'test', at: new Date(0).toISOString() };
      pairs[1]!.decision = { state: 'rejected', by: 'test', at: new Date(0).toISOString() };
    });
    const accepted = await runCli(['train', '--data', data(), '--split', split(), '--out', join(dir, 'r-acc'), '--recipe', 'origin+gan', '--gan-dir', join(dir, 'g1'), '--classes', 'ggo-consolidation', ...TINY_RUN]);
    expect(accepted.code, accepted.stderr).toBe(0);
    const accRecord = JSON.parse(await readFile(join(dir, 'r-acc', 'config.json'), 'utf8')) as RunRecord;
    expect(accRecord.gan).toMatchObject({ selection: 'accepted', used: 1, ids: ['gan_00001'] });
    // Generated pairs never enter val or test.
    expect([...accRecord.split.val, ...accRecord.split.test].some((id) => id.startsWith('gan_'))).toBe(false);
  }, 120_000);

  it('GAN-on-GAN: a DAGAN trained on originals + first-generation pairs records generation 2 and its lineage, and passes it to its pairs', async () => {
    const gan2 = join(dir, 'dagan2');
    const trained = await runCli(['gan', 'train', '--kind', 'dagan', '--data', data(), '--split', split(), '--out', gan2, '--epochs', '2', '--pairs', join(dir, 'g2'), ...TINY]);
    expect(trained.code, trained.stderr).toBe(0);
    const lines = await metrics(gan2);
    expect(lines[1]!.gLoss).not.toBe(lines[0]!.gLoss);
    const record = JSON.parse(await readFile(join(gan2, 'gan.json'), 'utf8')) as GanRecord;
    expect(record.generation).toBe(2);
    expect(record.pairs).toHaveLength(1);
    expect(record.pairs[0]).toMatchObject({ selection: 'all', used: 5, available: 5, from: { kind: 'pix2pix', generation: 1 } });
    const generated = await runCli(['gan', 'generate', '--gan', gan2, '--count', '2', '--out', join(dir, 'g-2nd')]);
    expect(generated.code, generated.stderr).toBe(0);
    const pairs = await readPairs(join(dir, 'g-2nd'));
    expect(pairs[0]!.generator).toMatchObject({ kind: 'dagan', generation: 2 });
    // DAGAN restyles a real reference slice: its id is among the sources.
    expect(pairs[0]!.sources.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('resume continues from the last checkpoint', async () => {
    const gan = join(dir, 'resumed');
    expect((await runCli(['gan', 'train', '--data', data(), '--split', split(), '--out', gan, '--epochs', '1', ...TINY])).code).toBe(0);
    const resumed = await runCli(['gan', 'train', '--data', data(), '--split', split(), '--out', gan, '--epochs', '2', '--resume', ...TINY]);
    expect(resumed.stderr).toMatch(/resuming after epoch 1/);
    expect((await metrics(gan)).map((l) => l.epoch)).toEqual([1, 2]);
  }, 60_000);

  it('spectral normalisation divides a kernel by its largest singular value (power iteration)', async () => {
    await selectBackend('wasm');
    const net: Net = { store: createParamStore(), random: createRandom(3), spectral: true };
    const kernel = tf.tensor4d(Float32Array.from({ length: 4 * 4 * 3 * 5 }, (_, i) => Math.sin(i * 1.7) + (i % 5) * 0.3), [4, 4, 3, 5]);
    tf.tidy(() => spectralNormalised(net, 'k', kernel));
    net.store.trainable.set('k/kernel', tf.variable(kernel));
    for (let i = 0; i < 60; i++) powerIterate(net);
    const normalised = tf.tidy(() => tf.reshape(spectralNormalised(net, 'k', kernel), [48, 5]));
    // The largest singular value of the normalised matrix, by many plain power iterations on W^T W.
    const w = (await normalised.array()) as number[][];
    let v = [1, 1, 1, 1, 1];
    let sigma = 0;
    for (let it = 0; it < 500; it++) {
      const wv = w.map((row) => row.reduce((s, x, j) => s + x * v[j]!, 0));
      const wtwv = v.map((_, j) => w.reduce((s, row, i) => s + row[j]! * wv[i]!, 0));
      const norm = Math.hypot(...wtwv);
      sigma = Math.sqrt(norm / Math.hypot(...v));
      v = wtwv.map((x) => x / norm);
    }
    expect(sigma).toBeCloseTo(1, 3);
    normalised.dispose();
    net.store.dispose();
  });
});

describe('derived masks', () => {
  it('the lung region keeps a borrowed lesion inside the lung: dark inside the body, bright vessels filled, the outside air left out', async () => {
    const { lungRegion } = await import('../../../../src-main/engine/gan/derive-masks');
    const size = 64;
    // Body (grey 150) with a dark lung (20) holding one bright vessel pixel; air (0) around the body.
    const image = new Uint8Array(size * size).map((_, i) => {
      const x = i % size;
      const y = Math.floor(i / size);
      if (x < 8 || x >= 56 || y < 8 || y >= 56) return 0;
      if (x >= 16 && x < 48 && y >= 16 && y < 48) return x === 30 && y === 30 ? 200 : 20;
      return 150;
    });
    const lung = lungRegion(image, new Uint8Array(size * size), size);
    expect(lung[30 * size + 30]).toBe(1);
    expect(lung[20 * size + 20]).toBe(1);
    expect(lung[2 * size + 2]).toBe(0);
    expect(lung[10 * size + 10]).toBe(0);
  });
});
