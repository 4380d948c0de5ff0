import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkDataset } from '../../../../src-main/engine/datasets/check-dataset';
import { LUNG_WINDOW, parseHuWindow, windowHu } from '../../../../src-main/engine/datasets/hu-window';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { tempDir } from '../../../fixtures/temp-dir';

const NX = 6;
const NY = 5;
const NZ = 3;

/** HU volume: -1000 air except a -500 block; labels: 1 and 2 in known voxels of slice 1. */
async function writeVolumePair(root: string, name = 'case1', gz = true) {
  await mkdir(`${root}/images`, { recursive: true });
  await mkdir(`${root}/labels`, { recursive: true });
  const hu = new Int16Array(NX * NY * NZ).fill(-1000);
  const labels = new Uint8Array(NX * NY * NZ);
  const at = (i: number, j: number, k: number) => i + j * NX + k * NX * NY;
  hu[at(1, 1, 1)] = -500;
  labels[at(1, 1, 1)] = 1;
  labels[at(2, 1, 1)] = 2;
  labels[at(3, 1, 1)] = 3; // e.g. pleural effusion: not a COVID lesion class
  const ext = gz ? '.nii.gz' : '.nii';
  // Stored with slope 2: the reader must apply it (raw -500 * 2 = -1000 HU).
  await writeNifti(`${root}/images/${name}${ext}`, { shape: [NX, NY, NZ], values: hu.map((v) => v / 2), datatype: 'int16', slope: 2 });
  await writeNifti(`${root}/labels/${name}${ext}`, { shape: [NX, NY, NZ], values: labels, datatype: 'uint8' });
}

describe('NIfTI datasets', () => {
  it('slices volumes axially, windows HU and keeps class labels', async () => {
    const root = await tempDir();
    await writeVolumePair(root);
    const dataset = await openDataset(root);
    expect(dataset.format).toBe('nifti');
    expect(dataset.slices.map((s) => s.id)).toEqual(['case1:z000', 'case1:z001', 'case1:z002']);
    const slice = await dataset.load(dataset.slices[1]!);
    expect([slice.width, slice.height]).toEqual([NX, NY]);
    // Row 0 is the highest j: voxel (i, j) lands at row NY - 1 - j.
    const pixel = (i: number, j: number) => (NY - 1 - j) * NX + i;
    expect(slice.image[pixel(1, 1)]).toBe(windowHu(-500, LUNG_WINDOW));
    expect(slice.image[pixel(0, 0)]).toBe(windowHu(-1000, LUNG_WINDOW));
    expect(slice.labels![pixel(1, 1)]).toBe(1);
    expect(slice.labels![pixel(2, 1)]).toBe(2);
    expect(slice.labels![pixel(3, 1)]).toBe(0);
    expect(slice.mask.reduce((n, v) => n + v, 0)).toBe(2);
  });

  it('applies a custom window', async () => {
    const root = await tempDir();
    await writeVolumePair(root, 'case1', false);
    const window = parseHuWindow('W400/L-500');
    const dataset = await openDataset(root, { window });
    const slice = await dataset.load(dataset.slices[1]!);
    expect(slice.image[(NY - 2) * NX + 1]).toBe(128);
  });

  it('reports shape and orientation mismatches, a missing label volume and a corrupt file', async () => {
    const root = await tempDir();
    await writeVolumePair(root, 'good');
    await writeNifti(`${root}/images/shape.nii.gz`, { shape: [4, 4, 2], values: new Int16Array(32), datatype: 'int16' });
    await writeNifti(`${root}/labels/shape.nii.gz`, { shape: [4, 4, 3], values: new Uint8Array(48), datatype: 'uint8' });
    await writeNifti(`${root}/images/turned.nii.gz`, { shape: [4, 4, 2], values: new Int16Array(32), datatype: 'int16' });
    await writeNifti(`${root}/labels/turned.nii.gz`, {
      shape: [4, 4, 2],
      values: new Uint8Array(32),
      datatype: 'uint8',
      sform: [
        [-1, 0, 0, 0],
        [0, -1, 0, 0],
        [0, 0, 1, 0],
      ],
    });
    await writeNifti(`${root}/images/alone.nii.gz`, { shape: [4, 4, 2], values: new Int16Array(32), datatype: 'int16' });
    await writeFile(`${root}/images/broken.nii.gz`, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await writeFile(`${root}/labels/broken.nii.gz`, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    const report = await checkDataset(root);
    const codes = report.problems.map((p) => `${p.code} ${p.file.split('/').slice(-2).join('/')}`);
    expect(codes).toContain('nifti-shape-mismatch labels/shape.nii.gz');
    expect(codes).toContain('nifti-orientation-mismatch labels/turned.nii.gz');
    expect(codes).toContain('nifti-without-label images/alone.nii.gz');
    expect(codes.some((c) => c.startsWith('corrupt-file') && c.includes('broken.nii.gz'))).toBe(true);
    expect(codes.some((c) => c.startsWith('bad-label-values labels/good.nii.gz'))).toBe(true);
    expect(report.slices).toBe(NZ); // only the good volume's slices
    expect(report.errors).toBeGreaterThanOrEqual(4);
    expect(report.classes!.groundGlass.slices).toBe(1);
    expect(report.classes!.consolidation.slices).toBe(1);
  });
});
