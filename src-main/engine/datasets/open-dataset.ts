import { stat } from 'node:fs/promises';
import { CovsegError } from '../errors';
import { explainMissingLayout } from './explain-layout';
import { looksLikeDicom, openDicom } from './dicom-dataset';
import { looksLikeNifti, openNifti, type NiftiOptions } from './nifti-dataset';
import { looksLikePngPairs, openPngPairs } from './png-pairs-dataset';
import type { Dataset } from './types';

/** Opens a dataset folder, recognising its layout (frames/masks PNG pairs, NIfTI volumes or DICOM series). */
export async function openDataset(root: string, options: NiftiOptions = {}): Promise<Dataset> {
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CovsegError('not-found', 'dataset folder does not exist', {
      file: root,
      fix: 'give the folder that contains frames/ and masks/ (or images/ and labels/ with NIfTI volumes)',
    });
  }
  if (await looksLikePngPairs(root)) return openPngPairs(root);
  if (await looksLikeNifti(root)) return openNifti(root, options);
  if (await looksLikeDicom(root)) return openDicom(root, options);
  throw await explainMissingLayout(root);
}
