import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDataset, inspectDataset } from '../../../../src-main/engine/datasets/check-dataset';
import { labelAxisFlips } from '../../../../src-main/engine/datasets/dicom-dataset';
import { LUNG_WINDOW, windowHu } from '../../../../src-main/engine/datasets/hu-window';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { splitDataset } from '../../../../src-main/engine/datasets/split-dataset';
import { readRun } from '../../../../src-main/engine/runs/read-run';
import { evaluateRun } from '../../../../src-main/engine/training/evaluate-run';
import { train } from '../../../../src-main/engine/training/trainer';
import { COLUMNS, huAt, ROWS, SLICES, writeDicomSlice, writeTestSeries } from '../../../fixtures/dicom-writer';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { tinyConfig } from '../../../fixtures/tiny-sample';
import { tempDir } from '../../../fixtures/temp-dir';

/*
 * The test series (axial, IPP of slice 0 = (-50, -60, 10) LPS, 0.7 mm between rows, 0.8 mm between
 * columns, 2.5 mm between slices), written by hand in RAS as the two ways labels come:
 * rows bottom-up as dcm2niix stores them, and rows as stored in DICOM as 3D Slicer saves them.
 */
const BOTTOM_UP_SFORM = [
  [-0.8, 0, 0, 50],
  [0, 0.7, 0, 60 - (ROWS - 1) * 0.7],
  [0, 0, 2.5, 10],
];
const DICOM_ROWS_SFORM = [
  [-0.8, 0, 0, 50],
  [0, -0.7, 0, 60],
  [0, 0, 2.5, 10],
];

/** Label 1 at DICOM pixel (column 1, row 0) and 2 at (column 2, row 2) of slice k = 2, on either grid. */
async function writeLabels(file: string, rowsBottomUp: boolean) {
  const values = new Uint8Array(COLUMNS * ROWS * SLICES);
  const at = (column: number, row: number, k: number) => column + (rowsBottomUp ? ROWS - 1 - row : row) * COLUMNS + k * COLUMNS * ROWS;
  values[at(1, 0, 2)] = 1;
  values[at(2, 2, 2)] = 2;
  await mkdir(dirname(file), { recursive: true });
  await writeNifti(file, { shape: [COLUMNS, ROWS, SLICES], values, datatype: 'uint8', sform: rowsBottomUp ? BOTTOM_UP_SFORM : DICOM_ROWS_SFORM });
}

describe('DICOM datasets', () => {
  for (const rowsBottomUp of [true, false]) {
    it(`reads series under images/ with a NIfTI label volume (${rowsBottomUp ? 'dcm2niix' : 'DICOM'} row order)`, async () => {
      const root = await tempDir();
      await writeTestSeries(join(root, 'images', 'p1', 'ct'));
      await writeLabels(join(root, 'labels', 'p1_ct.nii.gz'), rowsBottomUp);
      const dataset = await openDataset(root);
      expect(dataset.format).toBe('dicom');
      expect(dataset.listingProblems).toEqual([]);
      expect(dataset.slices.map((s) => s.id)).toEqual(['p1_ct:z000', 'p1_ct:z001', 'p1_ct:z002', 'p1_ct:z003', 'p1_ct:z004']);
      const slice = await dataset.load(dataset.slices[2]!);
      expect([slice.width, slice.height]).toEqual([COLUMNS, ROWS]);
      // Screen pixels are DICOM pixels: row 0 on top.
      expect(Array.from(slice.hu!)).toEqual(Array.from({ length: ROWS * COLUMNS }, (_, n) => huAt(n % COLUMNS, Math.floor(n / COLUMNS), 2)));
      expect(slice.image[0]).toBe(windowHu(huAt(0, 0, 2), LUNG_WINDOW));
      expect(slice.labels![0 * COLUMNS + 1]).toBe(1);
      expect(slice.labels![2 * COLUMNS + 2]).toBe(2);
      expect(slice.mask.reduce((n, v) => n + v, 0)).toBe(2);
      const other = await dataset.load(dataset.slices[1]!);
      expect(other.mask.reduce((n, v) => n + v, 0)).toBe(0);
    });
  }

  it('refuses a label volume that lies elsewhere, and finds labels named by SeriesInstanceUID', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'images', 'a'), { seriesUid: '1.2.40.1' });
    await writeTestSeries(join(root, 'images', 'b'), { seriesUid: '1.2.40.2' });
    await writeTestSeries(join(root, 'images', 'c'), { seriesUid: '1.2.40.3' });
    await mkdir(join(root, 'labels'));
    await writeNifti(join(root, 'labels', 'a.nii.gz'), { shape: [COLUMNS, ROWS, SLICES], values: new Uint8Array(COLUMNS * ROWS * SLICES), datatype: 'uint8', sform: [[-0.8, 0, 0, 40], [0, 0.7, 0, 0], [0, 0, 2.5, 10]] });
    await writeLabels(join(root, 'labels', '1.2.40.2.nii.gz'), true);
    const dataset = await openDataset(root);
    expect(dataset.slices.map((s) => s.id)).toEqual(['b:z000', 'b:z001', 'b:z002', 'b:z003', 'b:z004']);
    const problems = dataset.listingProblems.map((p) => [p.code, basename(p.file)]);
    expect(problems).toEqual([
      ['nifti-orientation-mismatch', 'a.nii.gz'],
      ['dicom-without-label', 'c'],
    ]);
    expect(dataset.listingProblems[1]!.fix).toContain('labels/c.nii.gz');
  });

  it('names a corrupt file in the check and still loads the rest of its series', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'images', 'p1'));
    await writeLabels(join(root, 'labels', 'p1.nii.gz'), true);
    // IM4 holds slice 2: its data set is cut inside the header.
    const broken = join(root, 'images', 'p1', 'IM4');
    const bytes = Buffer.alloc(400);
    bytes.write('DICM', 128, 'latin1');
    await writeFile(broken, bytes);
    const { report, dataset } = await inspectDataset(root);
    expect(report.format).toBe('dicom');
    const corrupt = report.problems.filter((p) => p.code === 'corrupt-file');
    expect(corrupt.map((p) => p.file)).toEqual([broken]);
    expect(corrupt[0]!.severity).toBe('error');
    expect(report.problems.some((p) => p.code === 'dicom-gap')).toBe(true);
    expect(report.validSlices).toBe(4);
    expect(report.series).toEqual([expect.objectContaining({ name: 'p1', modality: 'CT', slices: 4, missing: 1, size: `${COLUMNS}x${ROWS}`, gaps: 1, spacing: [0.8, 0.7, 2.5] })]);
    expect(dataset.slices.map((s) => s.id)).toEqual(['p1:z000', 'p1:z001', 'p1:z003', 'p1:z004']);
    expect((await dataset.load(dataset.slices[2]!)).hu![0]).toBe(huAt(0, 0, 3));
  });

  it('refuses a compressed series, naming its transfer syntax', async () => {
    const root = await tempDir();
    for (let k = 0; k < 2; k++) {
      await writeDicomSlice(join(root, 'images', 's', `IM${k}`), {
        seriesUid: '1.2.50',
        instance: `1.2.50.${k}`,
        hu: new Float32Array(COLUMNS * ROWS),
        rows: ROWS,
        columns: COLUMNS,
        position: [0, 0, k],
        transferSyntax: '1.2.840.10008.1.2.5',
      });
    }
    const report = await checkDataset(root);
    const refused = report.problems.find((p) => p.code === 'dicom-unsupported')!;
    expect(refused.message).toMatch(/RLE Lossless \(1\.2\.840\.10008\.1\.2\.5\)/);
    expect(refused.fix).toMatch(/gdcmconv --raw/);
    expect(report.series![0]!.leftOut).toMatch(/RLE Lossless/);
  });

  it('keeps all series of one study in one split', async () => {
    const root = await tempDir();
    const studies = ['1.2.60.1', '1.2.60.1', '1.2.60.2', '1.2.60.3', '1.2.60.4'];
    for (const [n, study] of studies.entries()) {
      await writeTestSeries(join(root, 'images', `s${n}`), { seriesUid: `1.2.61.${n}`, studyUid: study });
      await writeLabels(join(root, 'labels', `s${n}.nii.gz`), true);
    }
    const { dataset, scan } = await inspectDataset(root);
    const split = splitDataset(scan.summaries, { root, format: dataset.format, contentHash: scan.contentHash }, { val: 0.2, test: 0.2, seed: 3 });
    expect(split.grouping.ruleCounts).toEqual({ 'dicom study': 25 });
    const home = (id: string) => (['train', 'val', 'test'] as const).find((name) => split.slices[name].includes(id));
    expect(home('s0:z000')).toBe(home('s1:z004'));
    expect(split.leakage.groupsInSeveralSplits).toBe(0);
  });

  it('trains and evaluates on DICOM series like on any dataset, split by study', async () => {
    const root = await tempDir();
    for (let n = 0; n < 5; n++) {
      await writeTestSeries(join(root, 'images', `s${n}`), { seriesUid: `1.2.62.${n}`, studyUid: `1.2.63.${n % 4}` });
      await writeLabels(join(root, 'labels', `s${n}.nii.gz`), true);
    }
    const runDir = join(await tempDir(), 'run');
    await train({ runDir, config: tinyConfig(root, { epochs: 1, size: 16 }), cacheDir: join(runDir, '..', 'cache') });
    const record = (await readRun(runDir)).record;
    expect(record.dataset.format).toBe('dicom');
    const splitOf = (id: string) => (['train', 'val', 'test'] as const).find((name) => record.split[name].includes(id));
    // s0 and s4 share a study: one split for both.
    expect(splitOf('s0:z002')).toBe(splitOf('s4:z002'));
    const evaluated = await evaluateRun(runDir, { split: 'all', cacheDir: join(runDir, '..', 'cache') });
    expect(evaluated.ids).toBe(25);
    expect(evaluated.metrics.slices).toBe(25);
    expect(record.split.train.length + record.split.val.length + record.split.test.length).toBe(25);
  });

  it('matches label grids that run along flipped axes and nothing else', () => {
    const image = { shape: [4, 3, 5], affine: [[-0.8, 0, 0, 50], [0, 0.7, 0, 58.6], [0, 0, 2.5, 10], [0, 0, 0, 1]] };
    expect(labelAxisFlips(image, { shape: [4, 3, 5], affine: [[-0.8, 0, 0, 50], [0, -0.7, 0, 60], [0, 0, 2.5, 10], [0, 0, 0, 1]] })).toEqual([false, true, false]);
    expect(labelAxisFlips(image, { shape: [4, 3, 5], affine: [[0.8, 0, 0, 47.6], [0, 0.7, 0, 58.6], [0, 0, -2.5, 20], [0, 0, 0, 1]] })).toEqual([true, false, true]);
    expect(labelAxisFlips(image, { shape: [4, 3, 5], affine: [[-0.8, 0, 0, 51], [0, 0.7, 0, 58.6], [0, 0, 2.5, 10], [0, 0, 0, 1]] })).toBeUndefined();
    expect(labelAxisFlips(image, { shape: [3, 4, 5], affine: image.affine })).toBeUndefined();
  });
});
