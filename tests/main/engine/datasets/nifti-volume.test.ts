import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { readNifti } from '../../../../src-main/engine/datasets/nifti-volume';
import { CovsegError } from '../../../../src-main/engine/errors';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { tempDir } from '../../../fixtures/temp-dir';

const BOMB_ZEROS = 50 * 2 ** 20;

/** A valid 8x8x4 int16 header and volume followed by 50 MB of zeros, gzipped to ~50 KB. */
async function writeBomb(file: string): Promise<void> {
  const honest = join(await tempDir(), 'honest.nii.gz');
  await writeNifti(honest, { shape: [8, 8, 4], values: new Int16Array(256).fill(-1000), datatype: 'int16' });
  const body = gunzipSync(await readFile(honest));
  async function* content() {
    yield body;
    const zeros = Buffer.alloc(2 ** 20);
    for (let n = 0; n < BOMB_ZEROS / zeros.length; n++) yield zeros;
  }
  await pipeline(content(), createGzip(), createWriteStream(file));
}

describe('readNifti', () => {
  it('reads a volume whose size matches its header, gzipped or not', async () => {
    const dir = await tempDir();
    const values = Int16Array.from({ length: 8 * 8 * 4 }, (_, n) => n - 100);
    for (const name of ['v.nii', 'v.nii.gz']) {
      await writeNifti(join(dir, name), { shape: [8, 8, 4], values, datatype: 'int16', slope: 2, intercept: 1 });
      const volume = await readNifti(join(dir, name));
      expect(volume.shape).toEqual([8, 8, 4]);
      expect(volume.values[0]).toBe(-100 * 2 + 1);
      expect(volume.values[255]).toBe(155 * 2 + 1);
    }
  });

  it('refuses a gzip bomb (header says 8x8x4 int16, stream inflates to 50 MB) with bounded memory', async () => {
    const file = join(await tempDir(), 'bomb.nii.gz');
    await writeBomb(file);
    const before = process.memoryUsage().arrayBuffers;
    const error = await readNifti(file).then(
      () => null,
      (e: unknown) => e,
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(error).toBeInstanceOf(CovsegError);
    expect((error as CovsegError).message).toMatch(/decompresses beyond its header size/);
    expect((error as CovsegError).file).toBe(file);
    // Whole decompression would hold 50 MB; the stream stops one chunk past the header's 864 bytes.
    expect(grown).toBeLessThan(10 * 2 ** 20);
  });

  it('refuses a 4-D volume instead of silently taking its first frame', async () => {
    const file = join(await tempDir(), 'series.nii.gz');
    await writeNifti(file, { shape: [4, 4, 2], values: new Uint8Array(32), datatype: 'uint8', frames: 3 });
    await expect(readNifti(file)).rejects.toMatchObject({ code: 'unsupported', file, message: expect.stringMatching(/4-D .*3 frames/) });
  });

  it('reports a 4-D label volume as a dataset problem naming the file and the fix', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'images'));
    await mkdir(join(root, 'labels'));
    await writeNifti(join(root, 'images', 'case1.nii.gz'), { shape: [4, 4, 2], values: new Int16Array(32), datatype: 'int16' });
    await writeNifti(join(root, 'labels', 'case1.nii.gz'), { shape: [4, 4, 2], values: new Uint8Array(32), datatype: 'uint8', frames: 2 });
    const dataset = await openDataset(root);
    const problem = dataset.listingProblems.find((p) => p.file.endsWith(join('labels', 'case1.nii.gz')));
    expect(problem?.message).toMatch(/4-D/);
    expect(problem?.fix).toMatch(/frame/);
  });
});
