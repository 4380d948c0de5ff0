import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { listFolders } from '../../../../src-main/services/folder-listing';
import { FileAccess } from '../../../../src-main/services/file-access';
import { tempDir } from '../../../fixtures/temp-dir';

describe('why a folder is not a dataset', () => {
  it('names the missing half of a layout', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'frames'));
    await expect(openDataset(root)).rejects.toMatchObject({ code: 'bad-layout', message: 'the folder has frames/ but no masks/', file: join(root, 'masks') });
    const nifti = await tempDir();
    await mkdir(join(nifti, 'labels'));
    await expect(openDataset(nifti)).rejects.toMatchObject({ message: 'the folder has labels/ but no images/' });
  });

  it('points a parent folder at the datasets inside it, and the folder listing marks them', async () => {
    const parent = await tempDir();
    for (const dir of ['ct-a/frames', 'ct-a/masks', 'notes']) await mkdir(join(parent, dir), { recursive: true });
    const error = await openDataset(parent).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'this folder is not a dataset, but a folder inside it is', fix: `open ${join(parent, 'ct-a')}` });
    const access = new FileAccess([parent]);
    const listing = await listFolders(access, [parent], parent);
    expect(listing.folders.map((f) => [f.name, f.dataset])).toEqual([
      ['ct-a', true],
      ['notes', false],
    ]);
    expect(listing.parent).toBeNull();
    expect((await listFolders(access, [parent], join(parent, 'ct-a'))).parent).toBe(parent);
    await expect(listFolders(access, [parent], '/etc')).rejects.toThrow(/outside the folders/);
  });

  it('still gives the general message for a folder with nothing of a dataset', async () => {
    await expect(openDataset(await tempDir())).rejects.toThrow(/no dataset layout recognised/);
  });
});
