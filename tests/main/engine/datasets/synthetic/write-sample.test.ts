import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkDataset } from '../../../../../src-main/engine/datasets/check-dataset';
import { openDataset } from '../../../../../src-main/engine/datasets/open-dataset';
import { writeSyntheticSample } from '../../../../../src-main/engine/datasets/synthetic/write-sample';
import { tempDir } from '../../../../fixtures/temp-dir';

async function folderHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const sub of ['frames', 'masks', 'labels']) {
    for (const name of (await readdir(`${dir}/${sub}`)).sort()) hash.update(name).update(await readFile(`${dir}/${sub}/${name}`));
  }
  return hash.digest('hex');
}

describe('built-in synthetic CT sample', () => {
  it('is byte-identical for a seed and different for another', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    await writeSyntheticSample(a, { count: 8, size: 64, seed: 3 });
    await writeSyntheticSample(b, { count: 8, size: 64, seed: 3 });
    await writeSyntheticSample(c, { count: 8, size: 64, seed: 4 });
    expect(await folderHash(b)).toBe(await folderHash(a));
    expect(await folderHash(c)).not.toBe(await folderHash(a));
  });

  it('writes a valid dataset whose mask is exactly labels > 0, with patients, classes and lesion-free slices', async () => {
    const dir = await tempDir();
    const summary = await writeSyntheticSample(dir, { count: 60, size: 128, seed: 11 });
    expect(summary.patients).toBe(10);
    const report = await checkDataset(dir);
    expect(report.errors + report.warnings).toBe(0);
    expect(report.validSlices).toBe(60);
    expect(report.classes!.groundGlass.slices).toBeGreaterThan(20);
    expect(report.classes!.consolidation.slices).toBeGreaterThan(5);
    expect(report.emptyMasks / 60).toBeGreaterThan(0.04);
    expect(report.emptyMasks / 60).toBeLessThan(0.35);
    const dataset = await openDataset(dir);
    for (const ref of dataset.slices) {
      const slice = await dataset.load(ref);
      // One assertion per slice (not per pixel: a million expect calls took 10 s), naming the slice.
      let wrong = 0;
      for (let i = 0; i < slice.mask.length; i++) if (slice.mask[i] !== (slice.labels![i]! > 0 ? 1 : 0)) wrong++;
      expect(wrong, `pixels of ${ref.id} whose mask is not labels > 0`).toBe(0);
    }
    expect(dataset.slices[0]!.id).toBe('synth_p001_s01');
  });

  it('looks like CT in the lung window: dark air and lungs, bright soft tissue, lesions brighter than lung', async () => {
    const dir = await tempDir();
    await writeSyntheticSample(dir, { count: 12, size: 128, seed: 5 });
    const dataset = await openDataset(dir);
    let lesionSum = 0;
    let lesionCount = 0;
    let darkSum = 0;
    let darkCount = 0;
    for (const ref of dataset.slices) {
      const slice = await dataset.load(ref);
      expect(slice.image[0]).toBeLessThan(30); // corner: air outside the body
      const centre = slice.image[64 * 128 + 64]!;
      expect(centre).toBeGreaterThan(120); // mediastinum
      for (let i = 0; i < slice.mask.length; i++) {
        if (slice.mask[i]) {
          lesionSum += slice.image[i]!;
          lesionCount++;
        } else if (slice.image[i]! > 5 && slice.image[i]! < 60) {
          darkSum += slice.image[i]!;
          darkCount++;
        }
      }
    }
    expect(lesionCount).toBeGreaterThan(0);
    expect(lesionSum / lesionCount).toBeGreaterThan(darkSum / darkCount + 25);
  });

  it('rejects bad parameters', async () => {
    const dir = await tempDir();
    await expect(writeSyntheticSample(dir, { count: 0 })).rejects.toThrow(/--count/);
    await expect(writeSyntheticSample(dir, { size: 8 })).rejects.toThrow(/--size/);
  });
});
