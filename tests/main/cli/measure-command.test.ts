import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNifti } from '../../fixtures/nifti-writer';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { tinyConfig } from '../../fixtures/tiny-sample';
import { writeSyntheticSample } from '../../../src-main/engine/datasets/synthetic/write-sample';
import { train } from '../../../src-main/engine/training/trainer';

/** A 40 x 40 x 2 RAS volume (0.5 x 0.5 x 2 mm) with two lungs, a lesion of 6 x 4 voxels in the image-left one on slice 0. */
async function volumeDataset(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'images'), { recursive: true });
  await mkdir(join(dir, 'labels'), { recursive: true });
  const n = 40;
  const hu = new Int16Array(n * n * 2).map((_, v) => {
    const i = v % n;
    const j = Math.floor(v / n) % n;
    const lung = ((i - 11) / 7) ** 2 + ((j - 20) / 12) ** 2 < 1 || ((i - 29) / 7) ** 2 + ((j - 20) / 12) ** 2 < 1;
    return lung ? -850 : 40;
  });
  const labels = new Uint8Array(n * n * 2).map((_, v) => {
    const i = v % n;
    const j = Math.floor(v / n) % n;
    return v < n * n && i >= 8 && i < 14 && j >= 18 && j < 22 ? (i < 11 ? 1 : 2) : 0;
  });
  const sform = [
    [0.5, 0, 0, 0],
    [0, 0.5, 0, 0],
    [0, 0, 2, 0],
  ];
  await writeNifti(join(dir, 'images', 'ct.nii.gz'), { shape: [n, n, 2], values: hu, datatype: 'int16', sform });
  await writeNifti(join(dir, 'labels', 'ct.nii.gz'), { shape: [n, n, 2], values: labels, datatype: 'uint8', sform });
  return dir;
}

const parse = (csv: string) => {
  const [header, ...lines] = csv.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, k) => [names[k]!, v])));
};

describe('covseg measure', () => {
  it('measures lesion area in mm², volume in mL, classes and each lung per slice and per study', async () => {
    const data = await volumeDataset();
    const out = join(await tempDir(), 'm.csv');
    const result = await runCli(['measure', data, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const rows = parse(await readFile(out, 'utf8'));
    const slice0 = rows.find((r) => r.slice === 'ct:z000')!;
    expect(Number(slice0.lesion_px)).toBe(24);
    expect(Number(slice0.lesion_mm2)).toBeCloseTo(6, 5);
    expect(Number(slice0.ground_glass_share)).toBeCloseTo(0.5, 4);
    // Identity affine in RAS: +i points to the patient's right, so the image-left lung is the patient's left.
    expect(Number(slice0.left_lung_involved)).toBeGreaterThan(0);
    expect(Number(slice0.right_lung_involved)).toBe(0);
    const study = rows.find((r) => r.study === 'ct' && r.slice === 'ALL' && r.source === 'truth')!;
    // 24 voxels of 0.5 x 0.5 x 2 mm = 12 mm³ = 0.012 mL.
    expect(Number(study.lesion_ml)).toBeCloseTo(0.012, 4);
    expect(Number(study.lung_involved)).toBeGreaterThan(0);
    expect(Number(study.lung_involved)).toBeLessThan(0.1);
  });

  it('adds the rows of a run\'s predictions, and refuses to write into the dataset', async () => {
    const data = await tempDir();
    await writeSyntheticSample(data, { count: 6, size: 48, seed: 3 });
    const runDir = join(await tempDir(), 'run');
    await train({ runDir, config: tinyConfig(data, { epochs: 1 }) });
    const out = join(await tempDir(), 'm.csv');
    const result = await runCli(['measure', data, '--run', runDir, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const rows = parse(await readFile(out, 'utf8'));
    expect(rows.filter((r) => r.source === 'prediction' && r.slice !== 'ALL')).toHaveLength(6);
    expect(rows.filter((r) => r.source === 'truth' && r.slice !== 'ALL')).toHaveLength(6);
    const refused = await runCli(['measure', data, '--out', join(data, 'm.csv')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/inside|dataset/);
  });
});
