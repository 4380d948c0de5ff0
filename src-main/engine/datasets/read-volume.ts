import { stat } from 'node:fs/promises';
import { CovsegError } from '../errors';
import { readDicomVolume, scanDicomFolder, type DicomSeries } from './dicom-series';
import { readNifti, type NiftiVolume } from './nifti-volume';
import type { DatasetProblem } from './types';

/** A CT volume from either source, with where it came from and what was found on the way. */
export interface SourceVolume {
  volume: NiftiVolume;
  format: 'nifti' | 'dicom';
  /** The DICOM series read, for DICOM input. */
  series?: DicomSeries;
  /** Warnings met while reading a DICOM folder (gaps, duplicates, corrupt files left out). */
  problems: DatasetProblem[];
}

/**
 * Reads one CT volume from a NIfTI file or a folder holding one DICOM series (any nesting): the same
 * shape/affine/voxel conventions either way (see {@link readNifti}, {@link readDicomVolume}).
 * A folder with several CT series fails, listing them, so the caller points at one.
 */
export async function readVolume(path: string): Promise<SourceVolume> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch {
    throw new CovsegError('not-found', 'input does not exist', { file: path, fix: 'give a .nii/.nii.gz volume or a folder with one DICOM series' });
  }
  if (!isDirectory) return { volume: await readNifti(path), format: 'nifti', problems: [] };
  const scan = await scanDicomFolder(path);
  if (scan.series.length === 0) {
    const reasons = scan.info.map((s) => `${s.name}: ${s.leftOut ?? 'unusable'}`).join('; ');
    throw new CovsegError('bad-layout', `no readable CT series in the folder${reasons ? ` (${reasons})` : ''}`, {
      file: path,
      fix: 'point at a folder with the DICOM files of one CT series (uncompressed), or at a NIfTI volume',
    });
  }
  if (scan.series.length > 1) {
    throw new CovsegError('bad-parameter', `the folder holds ${scan.series.length} CT series: ${scan.series.map((s) => `${s.name} (${s.description || s.uid}, ${s.files.length} slices, in ${s.folder})`).join(', ')}`, {
      file: path,
      fix: 'point at the folder of one series',
    });
  }
  const series = scan.series[0]!;
  return { volume: await readDicomVolume(series), format: 'dicom', series, problems: scan.problems };
}
