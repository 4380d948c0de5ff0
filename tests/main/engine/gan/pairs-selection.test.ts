import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { updatePairs } from '../../../../src-main/engine/gan/pairs-file';
import { prepareSlices } from '../../../../src-main/engine/training/slice-cache';
import { trainingPool } from '../../../../src-main/engine/training/training-pool';
import { loadRecipe } from '../../../../src-main/engine/transforms/recipes';
import { writePairsFolder } from '../../../fixtures/generated-pairs';
import { tempDir } from '../../../fixtures/temp-dir';
import { tinyConfig, tinySample } from '../../../fixtures/tiny-sample';

describe('generated pairs in training', () => {
  it('trains on every pair nobody rejected, then only on the accepted ones once one was accepted', async () => {
    const data = await tinySample(12, 32);
    const dataset = await openDataset(data);
    const ids = dataset.slices.map((s) => s.id);
    const ganDir = join(await tempDir(), 'pairs');
    await writePairsFolder(data, ganDir, ids.slice(0, 5).map((id, i) => ({ id: `p${i}`, recipe: { kind: 'copy' as const, source: id } })));
    const slices = await prepareSlices(dataset, ids.slice(0, 4), 32, { cacheDir: await tempDir() });
    const config = tinyConfig(data, { recipe: await loadRecipe('origin+gan', { ganDir }) });
    expect((await trainingPool(slices, config)).count).toBe(4 + 5);
    await updatePairs(ganDir, (pairs) => {
      pairs[0]!.decision = { state: 'rejected', by: 'ana', at: new Date().toISOString() };
      pairs[1]!.decision = { state: 'rejected', by: 'auto-reject', at: new Date().toISOString(), reason: 'near-copy' };
    });
    expect((await trainingPool(slices, config)).count).toBe(4 + 3);
    await updatePairs(ganDir, (pairs) => {
      pairs[2]!.decision = { state: 'accepted', by: 'ana', at: new Date().toISOString() };
    });
    expect((await trainingPool(slices, config)).count).toBe(4 + 1);
  });
});
