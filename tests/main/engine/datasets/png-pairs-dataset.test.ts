import { readFile, rename, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { CovsegError } from '../../../../src-main/engine/errors';
import { writeGrayPng, writePair } from '../../../fixtures/gray-png';
import { tempDir } from '../../../fixtures/temp-dir';

describe('PNG pair datasets (Kaggle layout)', () => {
  it('lists pairs, thresholds masks at > 127 and keeps class maps', async () => {
    const root = await tempDir();
    await writePair(root, 'a', 16, 4, true);
    await writePair(root, 'b', 20, 6);
    const dataset = await openDataset(root);
    expect(dataset.format).toBe('png-pairs');
    expect(dataset.slices.map((s) => s.id)).toEqual(['a', 'b']);
    const a = await dataset.load(dataset.slices[0]!);
    expect([a.width, a.height]).toEqual([16, 16]);
    expect(a.mask.reduce((n, v) => n + v, 0)).toBe(16);
    expect(new Set(a.mask)).toEqual(new Set([0, 1]));
    expect(a.labels).toBeDefined();
    expect(a.labels!.filter((v) => v === 1).length + a.labels!.filter((v) => v === 2).length).toBe(16);
    const b = await dataset.load(dataset.slices[1]!);
    expect(b.labels).toBeUndefined();
    expect(b.width).toBe(20);
  });

  it('resizes bilinear for the image and nearest for mask and labels, leaving files untouched', async () => {
    const root = await tempDir();
    await writePair(root, 'a', 16, 8, true);
    const dataset = await openDataset(root);
    const small = await dataset.load(dataset.slices[0]!, { size: 8 });
    expect([small.width, small.height, small.image.length]).toEqual([8, 8, 64]);
    expect(new Set(small.mask)).toEqual(new Set([0, 1]));
    for (const v of small.labels!) expect([0, 1, 2]).toContain(v);
    const again = await dataset.load(dataset.slices[0]!);
    expect(again.width).toBe(16);
  });

  it('reads 0/1 masks as they are instead of erasing them with the 127 threshold', async () => {
    const root = await tempDir();
    await writeGrayPng(`${root}/frames/x.png`, 8, 8, () => 100);
    await writeGrayPng(`${root}/masks/x.png`, 8, 8, (x) => (x < 2 ? 1 : 0));
    const dataset = await openDataset(root);
    const slice = await dataset.load(dataset.slices[0]!);
    expect(slice.mask.reduce((n, v) => n + v, 0)).toBe(16);
  });

  it('fails on a corrupt frame with an error naming the file and the fix', async () => {
    const root = await tempDir();
    await writePair(root, 'ok');
    await writePair(root, 'bad');
    await writeFile(`${root}/frames/bad.png`, 'this is not a png');
    const dataset = await openDataset(root);
    const bad = dataset.slices.find((s) => s.id === 'bad')!;
    const error = await dataset.load(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CovsegError);
    expect((error as CovsegError).file).toBe(`${root}/frames/bad.png`);
    expect((error as CovsegError).fix).toMatch(/replace/);
  });

  it('reports a file name that is not UTF-8 as such, not as a missing file', async () => {
    const root = await tempDir();
    await writePair(root, 'ok');
    await writePair(root, 'tmp');
    // "caf\xe9" in Latin-1: a name Node can only hand back lossily as a string.
    const latin1 = Buffer.concat([Buffer.from(`${root}/frames/caf`), Buffer.from([0xe9]), Buffer.from('.png')]);
    await rename(`${root}/frames/tmp.png`, latin1);
    await rename(`${root}/masks/tmp.png`, Buffer.concat([Buffer.from(`${root}/masks/caf`), Buffer.from([0xe9]), Buffer.from('.png')]));
    const dataset = await openDataset(root);
    expect(dataset.slices.map((s) => s.id)).toEqual(['ok']);
    const problems = dataset.listingProblems.filter((p) => p.code === 'bad-file-name');
    expect(problems).toHaveLength(2);
    expect(problems[0]!.message).toMatch(/file name is not valid UTF-8 \(bytes 636166e92e706e67\)/);
    expect(problems[0]!.fix).toMatch(/rename it to a UTF-8 name/);
    expect(dataset.listingProblems.some((p) => /missing|does not exist|has no/.test(p.message))).toBe(false);
  });

  it('reports an oversized slice as too large in the dataset check and on load', async () => {
    const root = await tempDir();
    await writePair(root, 'big');
    const header = await readFile(`${root}/frames/big.png`);
    // Keep the signature, declare 20000 x 20000 in IHDR (bytes 16-23), fix the chunk's CRC.
    header.writeUInt32BE(20_000, 16);
    header.writeUInt32BE(20_000, 20);
    header.writeUInt32BE(crc32(header.subarray(12, 29)), 29);
    await writeFile(`${root}/frames/big.png`, header);
    const dataset = await openDataset(root);
    const { problems } = await dataset.inspect(dataset.slices[0]!);
    expect(problems).toMatchObject([{ code: 'image-too-large', file: `${root}/frames/big.png` }]);
    expect(problems[0]!.message).toMatch(/too large to decode: 20000x20000 px/);
    await expect(dataset.load(dataset.slices[0]!)).rejects.toMatchObject({ code: 'too-large' });
  });

  it('rejects a folder without frames/ and masks/', async () => {
    const root = await tempDir();
    await expect(openDataset(root)).rejects.toThrow(/no dataset layout recognised/);
    await expect(openDataset(`${root}/missing`)).rejects.toThrow(/does not exist/);
  });
});
