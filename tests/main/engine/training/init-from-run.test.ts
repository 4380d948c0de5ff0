import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import { createModel } from '../../../../src-main/engine/models/registry';
import { CovsegError } from '../../../../src-main/engine/errors';
import { loadCheckpoint } from '../../../../src-main/engine/runs/checkpoints';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { train } from '../../../../src-main/engine/training/trainer';
import { createAppServices } from '../../../../src-main/services/app-services';
import { runCli } from '../../../fixtures/run-cli';
import { tinyConfig } from '../../../fixtures/tiny-sample';

async function bestWeights(runDir: string, which: 'last' | 'best' = 'best'): Promise<Float32Array[]> {
  const { model } = await loadCheckpoint(runDir, which);
  const values = model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
  model.dispose();
  return values;
}

describe('fine-tuning from a run (--init-from)', () => {
  let data: string;
  let root: string;
  let parent: string;

  // Shared by the tests (tempDir() would remove it after the first).
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'covseg-init-from-'));
    data = join(root, 'data');
    await writeSyntheticSample(data, { count: 12, size: 64, seed: 7 });
    parent = join(root, 'runs', 'parent');
    await train({ runDir: parent, config: tinyConfig(data, { epochs: 1, seed: 3 }) });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("starts from the parent's best weights (batch norm included), records the parent, and is deterministic", async () => {
    const atBegin: Float32Array[][] = [];
    const child = join(root, 'child');
    await train({
      runDir: child,
      config: tinyConfig(data, { epochs: 1, initFrom: parent }),
      hooks: [{ onTrainBegin: (context) => void atBegin.push(context.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice())) }],
    });
    const parentWeights = await bestWeights(parent);
    expect(atBegin[0]!.length).toBe(parentWeights.length);
    atBegin[0]!.forEach((w, k) => expect(w).toEqual(parentWeights[k]));
    // The child's own seed would give other weights: the copy is what made them equal.
    const config = tinyConfig(data);
    const seeded = createModel(config.model.name, { ...config.model.options, seed: config.seed });
    expect(seeded.getWeights()[0]!.dataSync()).not.toEqual(parentWeights[0]);
    seeded.dispose();
    // And it trained on from there.
    expect((await bestWeights(child, 'last'))[0]).not.toEqual(parentWeights[0]);

    const run = await readRun(child);
    expect(run.record.config.initFrom).toBe(parent);
    expect(run.record.parent).toEqual({ runId: 'parent', dir: parent, checkpoint: 'best', epoch: 1 });

    // Same config, same parent: the same weights, bit for bit.
    const again = join(root, 'child-again');
    await train({ runDir: again, config: tinyConfig(data, { epochs: 1, initFrom: parent }) });
    const a = await bestWeights(child, 'last');
    const b = await bestWeights(again, 'last');
    a.forEach((w, k) => expect(b[k]).toEqual(w));
  });

  it('refuses a parent of another model, size or task before creating anything, naming the settings that fit', async () => {
    for (const overrides of [{ size: 64 }, { classes: 'ggo-consolidation' as const }, { model: { name: 'unet', options: { depth: 3, baseFilters: 4 } } }]) {
      const out = join(root, `bad-${Object.keys(overrides)[0]}`);
      const failure = await train({ runDir: out, config: tinyConfig(data, { epochs: 1, initFrom: parent, ...overrides }) }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(CovsegError);
      expect((failure as CovsegError).code).toBe('bad-parameter');
      expect((failure as CovsegError).message).toMatch(/--init-from .*parent was trained as --model unet --classes lesion --size 32 --depth 2 --base-filters 4/);
      expect((failure as CovsegError).fix).toMatch(/parent's settings \(--model unet --classes lesion --size 32 --depth 2 --base-filters 4\)/);
      expect(existsSync(out)).toBe(false);
    }
    const missing = await train({ runDir: join(root, 'orphan'), config: tinyConfig(data, { initFrom: join(root, 'no-such-run') }) }).catch((e: unknown) => e);
    expect((missing as CovsegError).message).toMatch(/is not a run folder/);
  });

  it('the CLI takes --init-from and says how to fix a mismatch', async () => {
    const out = join(root, 'cli-child');
    const result = await runCli(['train', '--data', data, '--out', out, '--init-from', parent, '--size', '64', '--depth', '2', '--base-filters', '4', '--epochs', '1', '--backend', 'wasm']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/was trained as --model unet --classes lesion --size 32 --depth 2 --base-filters 4, this run asks for .*--size 64/);
    expect(result.stderr).toMatch(/fix: train with the parent's settings/);
    expect(existsSync(out)).toBe(false);
  });

  it('training:start with initFromRun checks the parent before launching anything', async () => {
    // The workspace whose runs/ holds the parent.
    const workspace = root;
    let launched = 0;
    const services = createAppServices({
      transport: 'http',
      workspace,
      allowedRoots: [data],
      emit: () => undefined,
      launcher: async () => {
        launched++;
        throw new Error('not launched in this test');
      },
    });
    try {
      const opened = await services.dispatch('datasets:open', { path: data });
      expect(opened.ok).toBe(true);
      const datasetId = (opened as { value: { id: string } }).value.id;
      const refused = await services.dispatch('training:start', { datasetId, initFromRun: 'parent', size: 64, depth: 2, baseFilters: 4, epochs: 1 });
      expect(refused).toMatchObject({ ok: false, error: { code: 'bad-parameter', details: { fix: expect.stringMatching(/--size 32/) } } });
      const unknown = await services.dispatch('training:start', { datasetId, initFromRun: 'nope', size: 32, depth: 2, baseFilters: 4 });
      expect(unknown).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(launched).toBe(0);
    } finally {
      services.dispose();
    }
  });
});
