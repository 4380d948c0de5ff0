import { execFileSync, spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MISSING_HU, readDicomVolume, scanDicomFolder } from '../../../../src-main/engine/datasets/dicom-series';
import { COLUMNS, huAt, ROWS, SLICES, writeDicomSlice, writeTestSeries, type Orientation } from '../../../fixtures/dicom-writer';
import { tempDir } from '../../../fixtures/temp-dir';

/** RAS world point of DICOM pixel (column, row) of a slice, straight from PS3.3 C.7.6.2.1.1. */
function dicomPoint(position: number[], orientation: Orientation, column: number, row: number): number[] {
  const [rowSpacing, columnSpacing] = [0.7, 0.8];
  const lps = [0, 1, 2].map((a) => position[a]! + column * columnSpacing * orientation[a]! + row * rowSpacing * orientation[3 + a]!);
  return [-lps[0]!, -lps[1]!, lps[2]!];
}

function apply(affine: number[][], i: number, j: number, k: number): number[] {
  return [0, 1, 2].map((r) => affine[r]![0]! * i + affine[r]![1]! * j + affine[r]![2]! * k + affine[r]![3]!);
}

describe('DICOM series', () => {
  it('orders slices by position along the normal, not by file name or InstanceNumber, and rescales to HU', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'patient1', 'study', 'ct'));
    const scan = await scanDicomFolder(root);
    expect(scan.problems).toEqual([]);
    expect(scan.series).toHaveLength(1);
    const series = scan.series[0]!;
    expect(series.name).toBe('patient1_study_ct');
    expect(series.files.map((f) => basename(f))).toEqual(['IM3', 'IM0', 'IM4', 'IM1', 'IM2']);
    expect(series.shape).toEqual([COLUMNS, ROWS, SLICES]);
    expect(series.sliceSpacing).toBeCloseTo(2.5, 6);
    const volume = await readDicomVolume(series);
    // j counts rows from the bottom: voxel (i, j, k) is DICOM pixel (column i, row ROWS - 1 - j) of slice k.
    for (let k = 0; k < SLICES; k++) {
      for (let j = 0; j < ROWS; j++) {
        for (let i = 0; i < COLUMNS; i++) expect(volume.values[i + j * COLUMNS + k * COLUMNS * ROWS]).toBe(huAt(i, ROWS - 1 - j, k));
      }
    }
  });

  for (const [label, orientation] of [
    ['axial', [1, 0, 0, 0, 1, 0]],
    ['sagittal, normal pointing right', [0, 1, 0, 0, 0, -1]],
    ['oblique', [Math.cos(0.3), Math.sin(0.3), 0, 0, 0.6, -0.8]],
  ] as [string, Orientation][]) {
    it(`gives the affine that maps every voxel onto its DICOM patient position (${label})`, async () => {
      const root = await tempDir();
      const positions = await writeTestSeries(root, { orientation, spacing: 1.25, origin: [12.5, -40, 300] });
      const [series] = (await scanDicomFolder(root)).series;
      for (const k of [0, 2, SLICES - 1]) {
        for (const [column, row] of [[0, 0], [COLUMNS - 1, 0], [0, ROWS - 1], [COLUMNS - 1, ROWS - 1]] as const) {
          const expected = dicomPoint(positions[k]!, orientation, column, row);
          const got = apply(series!.affine, column, ROWS - 1 - row, k);
          for (let a = 0; a < 3; a++) expect(got[a]).toBeCloseTo(expected[a]!, 4);
        }
      }
    });
  }

  it('reports a gap in positions and still loads the slices around it', async () => {
    const root = await tempDir();
    await writeTestSeries(root, { skip: [2] });
    const scan = await scanDicomFolder(root);
    const gaps = scan.problems.filter((p) => p.code === 'dicom-gap');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.message).toMatch(/gap of 5\.00 mm.*1 slice\(s\) missing.*\(z002\) stay empty/);
    expect(basename(gaps[0]!.file)).toBe('IM1');
    const series = scan.series[0]!;
    expect(series.files).toHaveLength(4);
    // The grid keeps the missing slice's place, so the slices after it keep their positions.
    expect(series.indices).toEqual([0, 1, 3, 4]);
    expect(series.shape).toEqual([COLUMNS, ROWS, SLICES]);
    expect(scan.info[0]).toMatchObject({ slices: 4, missing: 1, gaps: 1, duplicates: 0 });
    const volume = await readDicomVolume(series);
    const plane = COLUMNS * ROWS;
    expect(Array.from(volume.values.subarray(2 * plane, 3 * plane))).toEqual(new Array(plane).fill(MISSING_HU));
    expect(volume.values[3 * plane]).toBe(huAt(0, ROWS - 1, 3));
  });

  it('keeps one of two slices at the same position and says which file was dropped', async () => {
    const root = await tempDir();
    await writeTestSeries(root);
    const hu = new Float32Array(ROWS * COLUMNS).fill(0);
    await writeDicomSlice(join(root, 'ZZ_copy'), { seriesUid: '1.2.826.0.1.3680043.9.7433.3.1', instance: '1.2.826.0.1.3680043.9.7433.5', hu, rows: ROWS, columns: COLUMNS, position: [-50, -60, 15], pixelSpacing: [0.7, 0.8] });
    const scan = await scanDicomFolder(root);
    const duplicates = scan.problems.filter((p) => p.code === 'dicom-duplicate-position');
    expect(duplicates.map((p) => basename(p.file))).toEqual(['ZZ_copy']);
    expect(scan.series[0]!.files).toHaveLength(SLICES);
    expect(scan.series[0]!.files.map((f) => basename(f))).not.toContain('ZZ_copy');
  });

  it('groups by SeriesInstanceUID, leaves out mixed sizes and non-CT series with the reason', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'study'), { seriesUid: '1.2.3.1' });
    await writeTestSeries(join(root, 'study'), { seriesUid: '1.2.3.2', modality: 'MR', prefix: 'MR' });
    await writeTestSeries(join(root, 'other'), { seriesUid: '1.2.3.3' });
    await writeDicomSlice(join(root, 'other', 'big'), { seriesUid: '1.2.3.3', instance: '1.2.3.3.99', hu: new Float32Array(16), rows: 4, columns: 4, position: [-50, -60, 100], pixelSpacing: [0.7, 0.8] });
    const scan = await scanDicomFolder(root);
    expect(scan.info.map((s) => s.name).sort()).toEqual(['other', 'study_s1', 'study_s1_2']);
    expect(scan.series.map((s) => s.uid)).toEqual(['1.2.3.1']);
    const mixed = scan.problems.find((p) => p.code === 'dicom-mixed-sizes')!;
    expect(basename(mixed.file)).toBe('big');
    expect(mixed.severity).toBe('error');
    const notCt = scan.problems.find((p) => p.code === 'dicom-not-ct')!;
    expect(notCt.message).toMatch(/modality is MR/);
    expect(scan.info.find((s) => s.uid === '1.2.3.2')!.leftOut).toMatch(/not CT/);
  });

  it('leaves out a series without pixel data (a report) with a warning', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'ct'));
    await writeDicomSlice(join(root, 'report', 'SR1'), { seriesUid: '1.2.80', instance: '1.2.80.1', hu: [], rows: 0, columns: 0, position: [0, 0, 0], modality: 'SR', noPixels: true });
    const scan = await scanDicomFolder(root);
    expect(scan.series.map((s) => s.name)).toEqual(['ct']);
    const notImage = scan.problems.find((p) => p.code === 'dicom-not-image')!;
    expect(notImage.severity).toBe('warning');
    expect(basename(notImage.file)).toBe('SR1');
  });

  it('agrees with pydicom on slice order and HU (independent reader; skipped without python3-pydicom)', async () => {
    // Debian's interpreter first: python3-pydicom installs there, whatever python3 is first on PATH.
    const python = ['/usr/bin/python3', 'python3'].find((bin) => spawnSync(bin, ['-c', 'import pydicom, numpy']).status === 0);
    if (!python) {
      console.warn('python3-pydicom is not installed (apt-get install -y python3-pydicom): pydicom cross-check skipped');
      return;
    }
    const root = await tempDir();
    await writeTestSeries(root, { orientation: [0, 1, 0, 0, 0, -1] });
    const script = [
      'import json, os, sys, numpy as np, pydicom',
      'root = sys.argv[1]',
      'ds = [pydicom.dcmread(os.path.join(root, f)) for f in sorted(os.listdir(root))]',
      'n = np.cross(np.array(ds[0].ImageOrientationPatient[:3], float), np.array(ds[0].ImageOrientationPatient[3:], float))',
      'ds.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), n)))',
      'print(json.dumps([{"file": os.path.basename(d.filename), "hu": (d.pixel_array.astype(float) * float(d.RescaleSlope) + float(d.RescaleIntercept)).ravel().tolist()} for d in ds]))',
    ].join('\n');
    const reference = JSON.parse(execFileSync(python, ['-c', script, root], { encoding: 'utf8' })) as { file: string; hu: number[] }[];
    const [series] = (await scanDicomFolder(root)).series;
    expect(series!.files.map((f) => basename(f))).toEqual(reference.map((r) => r.file));
    const volume = await readDicomVolume(series!);
    reference.forEach((slice, k) => {
      const ours: number[] = [];
      for (let row = 0; row < ROWS; row++) for (let i = 0; i < COLUMNS; i++) ours.push(volume.values[i + (ROWS - 1 - row) * COLUMNS + k * COLUMNS * ROWS]!);
      expect(ours).toEqual(slice.hu);
    });
  });
});
