import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGrayPng } from '../../fixtures/gray-png';
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

  it('names the patient\'s right and left lung of PNG slices by the dataset\'s display orientation', async () => {
    // A slice stored turned (as the MedSeg slices are): one lung above the other, lesion in the upper one.
    const data = await tempDir();
    const [w, h] = [48, 64];
    const lung = (x: number, y: number) => ((x - 24) / 15) ** 2 + ((y - 18) / 10) ** 2 < 1 || ((x - 24) / 15) ** 2 + ((y - 46) / 10) ** 2 < 1;
    const body = (x: number, y: number) => ((x - 23.5) / 23) ** 2 + ((y - 31.5) / 31) ** 2 < 1;
    await writeGrayPng(join(data, 'frames', 's1.png'), w, h, (x, y) => (lung(x, y) ? 50 : body(x, y) ? 230 : 5));
    await writeGrayPng(join(data, 'masks', 's1.png'), w, h, (x, y) => (x >= 18 && x < 28 && y >= 14 && y < 22 ? 255 : 0));
    const workspace = await tempDir();
    const before = process.env.COVSEG_WORKSPACE;
    process.env.COVSEG_WORKSPACE = workspace;
    const measure = async (orientation: string) => {
      expect((await runCli(['dataset', 'orient', data, '--orientation', orientation])).code).toBe(0);
      const out = join(await tempDir(), 'm.csv');
      const result = await runCli(['measure', data, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      return parse(await readFile(out, 'utf8')).find((r) => r.slice === 's1')!;
    };
    try {
      // As stored the lungs lie above each other: no side can be told.
      const stored = await measure('none');
      expect([stored.right_lung_involved, stored.left_lung_involved]).toEqual(['', '']);
      expect(Number(stored.lung_involved)).toBeGreaterThan(0);
      // Turned clockwise, the upper lung is shown on the right: the patient's left.
      const turned = await measure('rot90');
      expect(Number(turned.left_lung_involved)).toBeGreaterThan(0.1);
      expect(Number(turned.right_lung_involved)).toBe(0);
      // Turned the other way (or flipped), the same figures swap.
      const other = await measure('rot270');
      expect(other.right_lung_involved).toBe(turned.left_lung_involved);
      expect(other.left_lung_involved).toBe(turned.right_lung_involved);
      const flipped = await measure('rot90+flipH');
      expect(flipped.right_lung_involved).toBe(turned.left_lung_involved);
    } finally {
      if (before === undefined) delete process.env.COVSEG_WORKSPACE;
      else process.env.COVSEG_WORKSPACE = before;
    }
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
