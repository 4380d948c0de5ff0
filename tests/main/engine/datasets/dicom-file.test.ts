import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDicomHeader, readDicomSlice, requireDecodable } from '../../../../src-main/engine/datasets/dicom-file';
import { IMPLICIT_LITTLE, writeDicomSlice } from '../../../fixtures/dicom-writer';
import { tempDir } from '../../../fixtures/temp-dir';

const HU = [-1024, -1000, -600, -2, 0, 40, 400, 1200];

describe('DICOM files', () => {
  it('rescales stored values to HU with RescaleSlope and RescaleIntercept', async () => {
    const file = join(await tempDir(), 'slice.dcm');
    await writeDicomSlice(file, { seriesUid: '1.2.3', instance: '1.2.3.1', hu: HU, rows: 2, columns: 4, position: [0, 0, 0], slope: 2, intercept: -1024 });
    const { header, hu } = await readDicomSlice(file);
    expect([header.rows, header.columns, header.slope, header.intercept, header.modality]).toEqual([2, 4, 2, -1024, 'CT']);
    expect(Array.from(hu)).toEqual(HU);
  });

  it('reads implicit VR files and keeps only BitsStored bits of unsigned samples', async () => {
    const file = join(await tempDir(), 'slice.dcm');
    await writeDicomSlice(file, { seriesUid: '1.2.3', instance: '1.2.3.1', hu: HU, rows: 2, columns: 4, position: [0, 0, 0], intercept: -1024, transferSyntax: IMPLICIT_LITTLE, unsigned12WithJunk: true });
    const { header, hu } = await readDicomSlice(file);
    expect(header.transferSyntax).toBe(IMPLICIT_LITTLE);
    expect([header.bitsStored, header.signed]).toEqual([12, false]);
    expect(Array.from(hu)).toEqual(HU);
  });

  it('refuses compressed pixel data naming the transfer syntax and the fix', async () => {
    const file = join(await tempDir(), 'slice.dcm');
    await writeDicomSlice(file, { seriesUid: '1.2.3', instance: '1.2.3.1', hu: HU, rows: 2, columns: 4, position: [0, 0, 0] });
    const header = { ...(await readDicomHeader(file)), transferSyntax: '1.2.840.10008.1.2.4.90' };
    expect(() => requireDecodable(header)).toThrow(/JPEG 2000 \(Lossless Only\) \(1\.2\.840\.10008\.1\.2\.4\.90\)/);
    try {
      requireDecodable(header);
    } catch (error) {
      expect((error as { fix: string }).fix).toMatch(/gdcmconv --raw/);
      expect((error as { file: string }).file).toBe(file);
    }
  });

  it('names a truncated file and a file without DICOM magic', async () => {
    const dir = await tempDir();
    const file = join(dir, 'slice.dcm');
    await writeDicomSlice(file, { seriesUid: '1.2.3', instance: '1.2.3.1', hu: HU, rows: 2, columns: 4, position: [0, 0, 0] });
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 6));
    await expect(readDicomSlice(file)).rejects.toMatchObject({ code: 'corrupt-file', file });
    const junk = join(dir, 'junk.dcm');
    await writeFile(junk, Buffer.alloc(300, 7));
    await expect(readDicomHeader(junk)).rejects.toThrow(/no DICM magic/);
  });
});
