import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkDataset } from '../../../../src-main/engine/datasets/check-dataset';
import { writeGrayPng, writePair } from '../../../fixtures/gray-png';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../../../fixtures/real-data';
import { tempDir } from '../../../fixtures/temp-dir';

describe('dataset check', () => {
  it('summarises a clean dataset', async () => {
    const root = await tempDir();
    await writePair(root, 'a', 16, 4, true);
    await writePair(root, 'b', 16, 0, true);
    await writePair(root, 'c', 24, 8, true);
    const report = await checkDataset(root);
    expect(report.slices).toBe(3);
    expect(report.validSlices).toBe(3);
    expect(report.emptyMasks).toBe(1);
    expect(report.sizes).toEqual([
      { size: '16x16', count: 2 },
      { size: '24x24', count: 1 },
    ]);
    expect(report.lesionFraction.max).toBeCloseTo(64 / 576, 6);
    expect(report.lesionFraction.min).toBe(0);
    expect(report.classes!.labelledSlices).toBe(3);
    expect(report.errors + report.warnings).toBe(0);
    expect(report.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes the content hash when only the class labels change', async () => {
    const root = await tempDir();
    await writePair(root, 'a', 16, 4, true);
    const before = (await checkDataset(root)).contentHash;
    // Same any-lesion mask, every lesion pixel relabelled as consolidation.
    await writeGrayPng(`${root}/labels/a.png`, 16, 16, (x, y) => (x >= 4 && x < 8 && y >= 4 && y < 8 ? 2 : 0));
    const after = await checkDataset(root);
    expect(after.errors).toBe(0);
    expect(after.contentHash).not.toBe(before);
  });

  it('names each bad input with its file and fix', async () => {
    const root = await tempDir();
    await writePair(root, 'ok');
    await writePair(root, 'corrupt');
    await writeFile(`${root}/masks/corrupt.png`, Buffer.from('garbage'));
    await writeGrayPng(`${root}/frames/lonely.png`, 16, 16, () => 9);
    await writeGrayPng(`${root}/masks/orphan.png`, 16, 16, () => 0);
    await writePair(root, 'mismatch');
    await writeGrayPng(`${root}/masks/mismatch.png`, 12, 16, () => 0);
    await writePair(root, 'soft');
    await writeGrayPng(`${root}/masks/soft.png`, 16, 16, (x) => (x < 3 ? 200 : x < 5 ? 90 : 0));
    await copyFile(`${root}/frames/ok.png`, `${root}/frames/ok-copy.png`);
    await copyFile(`${root}/masks/ok.png`, `${root}/masks/ok-copy.png`);
    const report = await checkDataset(root);
    const byCode = (code: string) => report.problems.filter((p) => p.code === code);
    expect(byCode('corrupt-file')[0]!.file).toBe(`${root}/masks/corrupt.png`);
    expect(byCode('frame-without-mask')[0]!.file).toBe(`${root}/frames/lonely.png`);
    expect(byCode('frame-without-mask')[0]!.fix).toContain('masks/lonely.png');
    expect(byCode('mask-without-frame')[0]!.file).toBe(`${root}/masks/orphan.png`);
    expect(byCode('size-mismatch')[0]!.message).toMatch(/12x16.*16x16/);
    const soft = byCode('non-binary-mask')[0]!;
    expect(soft.severity).toBe('warning');
    // 3 columns of 200 and 2 of 90, 16 rows: every value that is neither 0 nor 255 counts.
    expect(soft.message).toMatch(/80 pixel\(s\)/);
    expect(byCode('duplicate-image')[0]!.message).toMatch(/ok-copy.*ok|ok.*ok-copy/);
    expect(report.errors).toBe(4);
    expect(report.validSlices).toBe(3); // ok, ok-copy and soft (its mask is thresholded, still usable)
  });

  it.skipIf(!HAVE_REAL_DATA)('finds 50 valid real slices of varying sizes with both lesion classes', async () => {
    const report = await checkDataset(REAL_DATA_DIR);
    expect(report.validSlices).toBe(50);
    expect(report.errors).toBe(0);
    expect(report.sizes.length).toBeGreaterThan(10);
    expect(report.sizes.some((s) => s.size === '512x512')).toBe(false);
    expect(report.emptyMasks).toBe(0);
    expect(report.classes!.groundGlass.slices).toBeGreaterThan(0);
    expect(report.classes!.consolidation.slices).toBeGreaterThan(0);
  });

  it('gives an empty NIfTI dataset a fix about volumes, not about frames/', async () => {
    const root = await tempDir();
    await mkdir(`${root}/images`);
    // One image volume without its label volume: nothing usable, and nothing about PNG folders applies.
    await writeNifti(`${root}/images/ct.nii.gz`, { shape: [4, 4, 2], values: new Int16Array(32), datatype: 'int16' });
    const report = await checkDataset(root);
    const empty = report.problems.find((p) => p.code === 'empty-dataset');
    expect(report.format).toBe('nifti');
    expect(empty?.fix).toMatch(/images\/ .*NAME\.nii\.gz .*labels\/NAME\.nii\.gz/);
    expect(empty?.fix).not.toMatch(/frames/);
  });
});
