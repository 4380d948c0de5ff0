import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  datasetKindOf,
  guardEmptyFolder,
  guardOutputFile,
  guardOutputFolder,
  isSameOrInside,
  realPathOf,
  refuseInsideInputs,
} from '../../../../src-main/engine/files/output-guard';
import { writePair } from '../../../fixtures/gray-png';
import { tempDir } from '../../../fixtures/temp-dir';

/** A two-slice PNG-pairs dataset in a fresh folder. */
async function dataset(): Promise<{ root: string; data: string }> {
  const root = await tempDir();
  const data = join(root, 'data');
  await writePair(data, 'a');
  await writePair(data, 'b');
  return { root, data };
}

describe('output guard', () => {
  it('compares paths by containment, not by string prefix', () => {
    expect(isSameOrInside('/d/data', '/d/data')).toBe(true);
    expect(isSameOrInside('/d/data/masks', '/d/data')).toBe(true);
    expect(isSameOrInside('/d/data-out', '/d/data')).toBe(false);
    expect(isSameOrInside('/d/data/..name', '/d/data')).toBe(true);
    expect(isSameOrInside('/d', '/d/data')).toBe(false);
  });

  it('refuses an output equal to or inside an input dataset, naming the path and a fix', async () => {
    const { data } = await dataset();
    for (const out of [data, join(data, 'masks'), join(data, 'frames'), join(data, 'new', 'deeper')]) {
      const error = await refuseInsideInputs(out, { flag: '--out', inputs: [data] }, 'predictions').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'unsafe-output' });
      expect((error as Error).message).toContain(`--out ${out}`);
      expect((error as { fix: string }).fix).toContain(`${data}-predictions`);
    }
    await expect(refuseInsideInputs(`${data}-predictions`, { flag: '--out', inputs: [data] })).resolves.toBeUndefined();
  });

  it('is not fooled by a symlink into the dataset, and --force does not lift it', async () => {
    const { root, data } = await dataset();
    const link = join(root, 'link');
    await symlink(data, link);
    expect(await realPathOf(join(link, 'masks', 'not-yet'))).toBe(join(data, 'masks', 'not-yet'));
    await expect(guardOutputFolder(join(link, 'masks'), [], { flag: '--out', inputs: [data], force: true })).rejects.toThrow(/lies inside the input/);
  });

  it('refuses outputs inside any dataset folder, even one that is not an input', async () => {
    const { data } = await dataset();
    await expect(refuseInsideInputs(join(data, 'masks'), { flag: '--out', inputs: [] })).rejects.toThrow(/lies inside the dataset folder .*frames\/ and masks\//);
    // A folder with photos in images/ is no NIfTI dataset: writing below it is fine.
    const home = await tempDir();
    await mkdir(join(home, 'images'));
    await mkdir(join(home, 'labels'));
    expect(await datasetKindOf(home)).toBeUndefined();
    await expect(refuseInsideInputs(join(home, 'results'), { flag: '--out', inputs: [] })).resolves.toBeUndefined();
    await writeFile(join(home, 'images', 'ct.nii.gz'), '');
    expect(await datasetKindOf(home)).toBe('images/ and labels/');
  });

  it('protects the folder of a single input file but not its subfolders', async () => {
    const root = await tempDir();
    const slice = join(root, 'slice.png');
    await writeFile(slice, 'png');
    await expect(refuseInsideInputs(root, { flag: '--out', inputs: [slice] })).rejects.toThrow(/is the input/);
    await expect(refuseInsideInputs(join(root, 'results'), { flag: '--out', inputs: [slice] })).resolves.toBeUndefined();
  });

  it('refuses to overwrite existing files unless --force, and a file given as a folder', async () => {
    const out = await tempDir();
    await writeFile(join(out, 'a.png'), 'mine');
    await expect(guardOutputFolder(out, ['b.png'], { flag: '--out' })).resolves.toBeUndefined();
    await expect(guardOutputFolder(out, ['a.png', 'b.png'], { flag: '--out' })).rejects.toThrow(/already holds 1 file\(s\) this command would overwrite \(e\.g\. a\.png\)/);
    await expect(guardOutputFolder(out, ['a.png'], { flag: '--out', force: true })).resolves.toBeUndefined();
    await expect(guardOutputFolder(join(out, 'a.png'), [], { flag: '--out' })).rejects.toThrow(/is a file, but a folder is expected/);
  });

  it('wants a new or empty folder for whole-folder outputs unless --force', async () => {
    const { data } = await dataset();
    await expect(guardEmptyFolder(data, { flag: '--out' })).rejects.toThrow(/is not empty \(it is a dataset: frames\/ and masks\/\)/);
    await expect(guardEmptyFolder(data, { flag: '--out', force: true })).resolves.toBeUndefined();
    await expect(guardEmptyFolder(join(await tempDir(), 'new'), { flag: '--out' })).resolves.toBeUndefined();
  });

  it('lets a file be rewritten with identical bytes, but not with other content', async () => {
    const dir = await tempDir();
    const file = join(dir, 'split.json');
    await writeFile(file, '{"a":1}\n');
    await expect(guardOutputFile(file, '{"a":1}\n', { flag: '--out' })).resolves.toBeUndefined();
    await expect(guardOutputFile(file, '{"a":2}\n', { flag: '--out' })).rejects.toThrow(/already exists with other content/);
    await expect(guardOutputFile(file, '{"a":2}\n', { flag: '--out', force: true })).resolves.toBeUndefined();
    await expect(guardOutputFile(dir, '{}', { flag: '--out' })).rejects.toThrow(/is a folder, but a file is expected/);
  });
});
