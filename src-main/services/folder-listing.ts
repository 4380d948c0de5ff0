import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { FolderListing } from '../../src-shared/contract';
import { holdsDatasetLayout } from '../engine/datasets/explain-layout';
import { isInside, type FileAccess } from './file-access';

/** Sub-folders listed at most, so a huge folder still answers at once. */
const MAX_FOLDERS = 500;

/**
 * The browser-mode folder picker's view of the disk: the allowed roots, or the sub-folders of one
 * folder under them, each marked when it holds a dataset layout. Paths go through the same
 * FileAccess check as opening, so the picker shows nothing opening would refuse.
 */
export async function listFolders(access: FileAccess, roots: string[], path: string | undefined): Promise<FolderListing> {
  if (path === undefined || path.trim() === '') {
    const folders = await Promise.all(roots.map(async (root) => ({ name: root, path: root, dataset: await holdsDatasetLayout(root) })));
    return { path: null, parent: null, folders };
  }
  const dir = await access.check(path.trim());
  let entries: string[] = [];
  try {
    entries = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b))
      .slice(0, MAX_FOLDERS);
  } catch {
    // Unreadable: shown as a folder with nothing inside.
  }
  const folders = await Promise.all(entries.map(async (name) => ({ name, path: join(dir, name), dataset: await holdsDatasetLayout(join(dir, name)) })));
  const up = dirname(dir);
  const parent = up !== dir && roots.some((root) => isInside(resolve(root), up)) ? up : null;
  return { path: dir, parent, folders };
}
