import { basename } from 'node:path';
import { CovsegError } from '../errors';
import { readDicomSlice } from './dicom-file';
import { containsDicom, scanDicomFolder, type DicomSeries } from './dicom-series';
import { LUNG_WINDOW, windowHu } from './hu-window';
import { firstExistingDir, IMAGE_DIRS, LABEL_DIRS, listVolumes, type NiftiOptions } from './nifti-dataset';
import { affineDifference, cachedNiftiReader, isAxialStack, type NiftiVolume } from './nifti-volume';
import { resizeSlice } from './png-pairs-dataset';
import { sliceGeometry } from './slice-geometry';
import type { Dataset, DatasetProblem, LoadOptions, SliceData, SliceRef } from './types';

const GROUND_GLASS = 1;
const CONSOLIDATION = 2;

/** Which voxel axes of a label volume run opposite to the image's: `[i, j, k]`. */
export type AxisFlips = [boolean, boolean, boolean];

/**
 * Finds the axis flips that put a label volume on the image grid, or undefined when none does.
 * Labels made on a DICOM series come both ways: row order as stored (3D Slicer, ITK-SNAP) or
 * bottom-up (dcm2niix); both describe the same voxels, so either is read exactly.
 */
export function labelAxisFlips(image: { affine: number[][]; shape: readonly number[] }, label: { affine: number[][]; shape: readonly number[] }): AxisFlips | undefined {
  if (image.shape.join('x') !== label.shape.join('x')) return undefined;
  for (let combo = 0; combo < 8; combo++) {
    const flips: AxisFlips = [Boolean(combo & 1), Boolean(combo & 2), Boolean(combo & 4)];
    const flipped = image.affine.map((row) => row.slice());
    for (let axis = 0; axis < 3; axis++) {
      if (!flips[axis]) continue;
      for (let r = 0; r < 3; r++) {
        flipped[r]![3]! += (image.shape[axis]! - 1) * flipped[r]![axis]!;
        flipped[r]![axis] = -flipped[r]![axis]!;
      }
    }
    if (affineDifference(flipped, label.affine) <= 1e-3) return flips;
  }
  return undefined;
}

/** True when `root` is a DICOM dataset: DICOM files under `images/` (any depth), or directly under `root`. */
export async function looksLikeDicom(root: string): Promise<boolean> {
  const imageDir = await firstExistingDir(root, IMAGE_DIRS);
  return containsDicom(imageDir ?? root);
}

interface LabelledSeries {
  series: DicomSeries;
  label: string;
  flips: AxisFlips;
}

/**
 * Opens CT series stored as DICOM: `ROOT/images/**` (any nesting; or ROOT itself) with one NIfTI label
 * volume per series in `ROOT/labels/`, named after the series (`NAME.nii.gz`, NAME being the series
 * folder's path below images/ with `_` for `/`) or after its SeriesInstanceUID. Each slice becomes
 * `NAME:z042`, windowed from HU like a NIfTI slice, and belongs to its DICOM study for splits.
 */
export async function openDicom(root: string, options: NiftiOptions = {}): Promise<Dataset> {
  const window = options.window ?? LUNG_WINDOW;
  const imageDir = (await firstExistingDir(root, IMAGE_DIRS)) ?? root;
  const labelDir = await firstExistingDir(root, LABEL_DIRS);
  const labels = labelDir ? await listVolumes(labelDir) : new Map<string, string>();
  const scan = await scanDicomFolder(imageDir);
  const listingProblems: DatasetProblem[] = [...scan.problems];
  const slices: SliceRef[] = [];
  const bySeries = new Map<string, LabelledSeries>();

  const labelVolume = cachedNiftiReader();

  for (const series of scan.series) {
    const info = scan.info.find((i) => i.name === series.name)!;
    const labelFile = labels.get(series.name) ?? labels.get(series.uid);
    if (!labelFile) {
      info.leftOut = 'no label volume';
      listingProblems.push({
        severity: 'error',
        code: 'dicom-without-label',
        file: series.folder,
        message: `series ${series.name} (${series.files.length} slices) has no label volume`,
        fix: `add labels/${series.name}.nii.gz (or labels/${series.uid}.nii.gz) on the series grid: 0 background, 1 ground-glass, 2 consolidation`,
      });
      continue;
    }
    let label: NiftiVolume;
    try {
      label = await labelVolume(labelFile);
    } catch (error) {
      if (!(error instanceof CovsegError)) throw error;
      info.leftOut = 'label volume unreadable';
      listingProblems.push({ severity: 'error', code: 'corrupt-file', file: labelFile, message: error.message, fix: error.fix ?? 'replace the file' });
      continue;
    }
    if (label.shape.join('x') !== series.shape.join('x')) {
      info.leftOut = 'label volume of another shape';
      listingProblems.push({
        severity: 'error',
        code: 'nifti-shape-mismatch',
        file: labelFile,
        message: `label volume of series ${series.name} is ${label.shape.join('x')} but the series is ${series.shape.join('x')} (columns x rows x slices)`,
        fix: 'save the labels on the series grid (one label slice per DICOM slice, same rows and columns)',
      });
      continue;
    }
    const flips = labelAxisFlips(series, label);
    if (!flips) {
      info.leftOut = 'label volume in another position or orientation';
      listingProblems.push({
        severity: 'error',
        code: 'nifti-orientation-mismatch',
        file: labelFile,
        message: `label volume of series ${series.name} does not lie on the series grid (its affine differs from the one given by ImagePositionPatient/ImageOrientationPatient/PixelSpacing)`,
        fix: 'save the segmentation with the DICOM series as reference geometry (3D Slicer, ITK-SNAP), or make the image volume with dcm2niix and label that',
      });
      continue;
    }
    if (!isAxialStack(series.affine)) {
      listingProblems.push({
        severity: 'warning',
        code: 'nifti-not-axial',
        file: series.folder,
        message: `series ${series.name} is not an axial stack; its slices are shown as acquired`,
        fix: 'use the axial reconstruction of the study for axial slices',
      });
    }
    bySeries.set(series.name, { series, label: labelFile, flips });
    const study = series.studyUid || series.patientId || series.name;
    series.files.forEach((file, n) => {
      const z = series.indices[n]!;
      slices.push({ id: `${series.name}:z${String(z).padStart(3, '0')}`, source: { kind: 'dicom', image: file, label: labelFile, z, series: series.name }, study });
    });
  }

  async function decode(ref: SliceRef): Promise<{ slice: SliceData; otherLabels: number }> {
    if (ref.source.kind !== 'dicom') throw new CovsegError('internal', `slice ${ref.id} is not from a DICOM dataset`);
    const entry = bySeries.get(ref.source.series)!;
    const [nx, ny, nz] = entry.series.shape;
    const { header, hu } = await readDicomSlice(ref.source.image);
    if (header.columns !== nx || header.rows !== ny) {
      throw new CovsegError('size-mismatch', `slice is ${header.columns}x${header.rows}, its series ${nx}x${ny}`, {
        file: ref.source.image,
        fix: 'the file changed since the dataset was opened; open it again',
      });
    }
    const label = await labelVolume(entry.label);
    const [fi, fj, fk] = entry.flips;
    const z = ref.source.z;
    const plane = nx * ny;
    const pixels = new Uint8Array(plane);
    const mask = new Uint8Array(plane);
    const classes = new Uint8Array(plane);
    const lk = fk ? nz - 1 - z : z;
    let otherLabels = 0;
    // Screen row = DICOM row; the volume's j counts rows from the bottom (see DicomSeries).
    for (let row = 0; row < ny; row++) {
      const j = ny - 1 - row;
      const lj = fj ? ny - 1 - j : j;
      for (let i = 0; i < nx; i++) {
        const n = row * nx + i;
        pixels[n] = windowHu(hu[n]!, window);
        const value = Math.round(label.values[(fi ? nx - 1 - i : i) + lj * nx + lk * plane]!);
        if (value === GROUND_GLASS || value === CONSOLIDATION) {
          classes[n] = value;
          mask[n] = 1;
        } else if (value !== 0) otherLabels++;
      }
    }
    return { slice: { id: ref.id, width: nx, height: ny, image: pixels, mask, labels: classes, hu, ...sliceGeometry(entry.series.affine) }, otherLabels };
  }

  async function inspect(ref: SliceRef): Promise<{ slice?: SliceData; problems: DatasetProblem[] }> {
    if (ref.source.kind !== 'dicom') throw new CovsegError('internal', `slice ${ref.id} is not from a DICOM dataset`);
    const source = ref.source;
    let decoded: { slice: SliceData; otherLabels: number };
    try {
      decoded = await decode(ref);
    } catch (error) {
      if (!(error instanceof CovsegError)) throw error;
      return {
        problems: [
          {
            severity: 'error',
            code: error.code === 'unsupported' ? 'dicom-unsupported' : 'corrupt-file',
            file: error.file ?? source.image,
            message: `slice ${ref.id}: ${error.message}`,
            fix: error.fix ?? `replace or remove ${basename(source.image)}`,
          },
        ],
      };
    }
    const problems: DatasetProblem[] = [];
    if (decoded.otherLabels > 0) {
      problems.push({
        severity: 'warning',
        code: 'bad-label-values',
        file: source.label,
        message: `slice ${ref.id} has ${decoded.otherLabels} voxel(s) with labels other than 0, 1, 2; they count as background`,
        fix: 'relabel if those voxels are lesion (1 ground-glass, 2 consolidation)',
      });
    }
    return { slice: decoded.slice, problems };
  }

  async function load(ref: SliceRef, loadOptions: LoadOptions = {}): Promise<SliceData> {
    return resizeSlice((await decode(ref)).slice, loadOptions.size);
  }

  return { root, format: 'dicom', slices, listingProblems, series: scan.info, load, inspect };
}
