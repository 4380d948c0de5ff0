import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVolume } from '../../../../src-main/engine/datasets/read-volume';
import { COLUMNS, huAt, ROWS, SLICES, writeTestSeries } from '../../../fixtures/dicom-writer';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { tempDir } from '../../../fixtures/temp-dir';

describe('readVolume', () => {
  it('reads a DICOM series folder and a NIfTI file into the same volume form', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'study', 'ct'));
    const fromDicom = await readVolume(root);
    expect(fromDicom.format).toBe('dicom');
    expect(fromDicom.volume.shape).toEqual([COLUMNS, ROWS, SLICES]);
    const file = join(root, 'same.nii.gz');
    await writeNifti(file, { shape: [COLUMNS, ROWS, SLICES], values: fromDicom.volume.values, datatype: 'int16', sform: fromDicom.volume.affine.slice(0, 3) });
    const fromNifti = await readVolume(file);
    expect(fromNifti.format).toBe('nifti');
    expect(Array.from(fromNifti.volume.values)).toEqual(Array.from(fromDicom.volume.values));
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(fromNifti.volume.affine[r]![c]).toBeCloseTo(fromDicom.volume.affine[r]![c]!, 4);
    // Top image row of slice 1 is the highest j.
    expect(fromDicom.volume.values[(ROWS - 1) * COLUMNS + COLUMNS * ROWS]).toBe(huAt(0, 0, 1));
  });

  it('asks for one series when a folder holds several', async () => {
    const root = await tempDir();
    await writeTestSeries(join(root, 'a'), { seriesUid: '1.2.70.1' });
    await writeTestSeries(join(root, 'b'), { seriesUid: '1.2.70.2' });
    await expect(readVolume(root)).rejects.toThrow(/holds 2 CT series: a .*, b /);
    await expect(readVolume(join(root, 'b'))).resolves.toMatchObject({ format: 'dicom', series: { uid: '1.2.70.2' } });
  });
});
