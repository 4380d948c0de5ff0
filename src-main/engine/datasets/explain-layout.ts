import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';

const isDirectory = async (path: string) => {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
};

/** The halves of the layouts CovSeg reads: a folder with one and not the other is a half-copied dataset. */
const PAIRS: [string, string, string][] = [
  ['frames', 'masks', 'PNG pairs: each frames/NAME.png needs masks/NAME.png'],
  ['images', 'labels', 'NIfTI or DICOM: each images/NAME.nii.gz (or DICOM series folder) needs labels/NAME.nii.gz'],
];

/** True when `dir` holds a layout CovSeg reads (both halves of a pair). */
export async function holdsDatasetLayout(dir: string): Promise<boolean> {
  for (const [a, b] of PAIRS) if ((await isDirectory(join(dir, a))) && (await isDirectory(join(dir, b)))) return true;
  return false;
}

/**
 * Why `root` is not a dataset, as one plain error a person can act on: one half of a layout without
 * the other, or a parent folder whose sub-folders are datasets (named, so the fix says which to open).
 * Called when no layout was recognised.
 */
export async function explainMissingLayout(root: string): Promise<CovsegError> {
  for (const [a, b, what] of PAIRS) {
    const hasA = await isDirectory(join(root, a));
    const hasB = await isDirectory(join(root, b));
    if (hasA !== hasB) {
      const [present, missing] = hasA ? [a, b] : [b, a];
      return new CovsegError('bad-layout', `the folder has ${present}/ but no ${missing}/`, {
        file: join(root, missing),
        fix: `copy the ${missing}/ folder beside ${present}/ (${what})`,
      });
    }
  }
  let names: string[] = [];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    // Unreadable: the generic message below.
  }
  const inside: string[] = [];
  for (const name of names.slice(0, 200)) if (await holdsDatasetLayout(join(root, name))) inside.push(join(root, name));
  if (inside.length > 0) {
    return new CovsegError('bad-layout', `this folder is not a dataset, but ${inside.length === 1 ? 'a folder inside it is' : `${inside.length} folders inside it are`}`, {
      file: root,
      fix: `open ${inside.slice(0, 3).join(' or ')}${inside.length > 3 ? ' (or another of them)' : ''}`,
    });
  }
  return new CovsegError('bad-layout', 'no dataset layout recognised', {
    file: root,
    fix: 'expected frames/NAME.png + masks/NAME.png, images/NAME.nii.gz + labels/NAME.nii.gz, or DICOM series under images/ + labels/SERIES.nii.gz',
  });
}
