import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { train } from '../../../../src-main/engine/training/trainer';
import { loadRecipe } from '../../../../src-main/engine/transforms/recipes';
import { runCli } from '../../../fixtures/run-cli';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../../fixtures/tiny-sample';

describe('training with augmentation recipes', () => {
  it.each(['origin', 'fliprot+elastic', 'fliprot+mixup', 'mixup+jpeg', 'fliprot+mixup+jpeg'])('trains online with %s and records the recipe', async (name) => {
    const data = await tinySample();
    const runDir = join(await tempDir(), 'run');
    const recipe = await loadRecipe(name);
    const summary = await train({ runDir, config: tinyConfig(data, { epochs: 1, recipe }) });
    expect(summary.status).toBe('completed');
    const run = await readRun(runDir);
    expect(run.record.config.recipe).toEqual(recipe);
    expect(Number.isFinite(run.metrics[0]!.trainLoss)).toBe(true);
  });

  it('offline mode trains on originals plus K copies each (more batches per epoch)', async () => {
    const data = await tinySample();
    const batches: number[] = [];
    const runDir = join(await tempDir(), 'offline');
    const recipe = await loadRecipe('fliprot+elastic', { mode: 'offline', copies: 2 });
    await train({ runDir, config: tinyConfig(data, { epochs: 1, recipe }), hooks: [{ onBatchEnd: (log) => void batches.push(log.batches) }] });
    const trainSlices = (await readRun(runDir)).record.split.train.length;
    // Originals plus two copies each, batch 4.
    expect(batches[0]).toBe(Math.ceil((3 * trainSlices) / 4));
  });

  it('is deterministic with augmentation: same seed, same weights', async () => {
    const data = await tinySample();
    const recipe = await loadRecipe('fliprot+mixup+jpeg');
    const a = join(await tempDir(), 'a');
    const b = join(await tempDir(), 'b');
    const sa = await train({ runDir: a, config: tinyConfig(data, { epochs: 1, recipe }) });
    const sb = await train({ runDir: b, config: tinyConfig(data, { epochs: 1, recipe }) });
    expect(sb.test!.metrics).toEqual(sa.test!.metrics);
  });

  it('covseg train --recipe works; a GAN recipe without pairs, or with pairs of unknown provenance, fails with the fix', async () => {
    const data = await tinySample();
    const out = join(await tempDir(), 'run');
    const ok = await runCli(['train', '--data', data, '--out', out, '--epochs', '1', '--size', '32', '--depth', '2', '--base-filters', '4', '--recipe', 'fliprot+mixup']);
    expect(ok.code).toBe(0);
    const gan = await runCli(['train', '--data', data, '--out', join(out, 'x'), '--recipe', 'origin+gan']);
    expect(gan.code).toBe(1);
    expect(gan.stderr).toMatch(/GAN-generated pairs.*fix: point --gan-dir/);
    // A folder of pairs without the GAN's provenance (here: the dataset itself) cannot pass the leakage guard.
    const unknownPairs = await runCli(['train', '--data', data, '--out', join(out, 'y'), '--epochs', '1', '--size', '32', '--depth', '2', '--base-filters', '4', '--recipe', 'origin+gan+elastic', '--gan-dir', data]);
    expect(unknownPairs.code).toBe(1);
    expect(unknownPairs.stderr).toMatch(/cannot tell which split the GAN behind these pairs trained on.*fix: use a folder made by `covseg gan generate/);
  });
});
