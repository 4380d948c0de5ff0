import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CovsegError } from '../errors';
import { LUNG_WINDOW, windowHu, type HuWindow } from './hu-window';
import { affineDifference, cachedNiftiReader, isAxialStack, type NiftiVolume } from './nifti-volume';
import { resizeSlice } from './png-pairs-dataset';
import { sliceGeometry } from './slice-geometry';
import type { Dataset, DatasetProblem, LoadOptions, SliceData, SliceRef } from './types';

/** Folders that hold the image volumes (or DICOM series), in order of preference. */
export const IMAGE_DIRS = ['images', 'imagesTr', 'volumes'];
/** Folders that hold the label volumes, in order of preference. */
export const LABEL_DIRS = ['labels', 'labelsTr', 'masks'];
const NIFTI_NAME = /\.nii(\.gz)?$/i;

/** Label values of the class maps: anything else (e.g. MedSeg's 3 = pleural effusion) is background. */
const GROUND_GLASS = 1;
const CONSOLIDATION = 2;

/** The first of `names` that is a folder under `root`. */
export async function firstExistingDir(root: string, names: string[]): Promise<string | undefined> {
  for (const name of names) {
    try {
      if ((await stat(join(root, name))).isDirectory()) return join(root, name);
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Volume name without extension and without nnU-Net's channel suffix (`case_0000.nii.gz` -> `case`). */
function volumeStem(name: string): string {
  return name.replace(NIFTI_NAME, '').replace(/_0000$/, '');
}

/** NIfTI files of a folder by stem (`case_0000.nii.gz` -> `case`). */
export async function listVolumes(dir: string): Promise<Map<string, string>> {
  const byStem = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    if (NIFTI_NAME.test(name)) byStem.set(volumeStem(name), join(dir, name));
  }
  return byStem;
}

/** True when `root` holds NIfTI volumes in `images/` (or `imagesTr/`, `volumes/`). */
export async function looksLikeNifti(root: string): Promise<boolean> {
  const dir = await firstExistingDir(root, IMAGE_DIRS);
  if (!dir) return false;
  return (await readdir(dir)).some((name) => NIFTI_NAME.test(name));
}

export interface NiftiOptions {
  /** Display window applied to HU values; the lung window W1500/L-600 by default. */
  window?: HuWindow;
}

/**
 * Opens CT volumes with class-label volumes: `ROOT/images/NAME.nii[.gz]` and `ROOT/labels/NAME.nii[.gz]`
 * (nnU-Net's `imagesTr/NAME_0000` + `labelsTr/NAME` also works). Each axial slice (along the k axis)
 * becomes one slice, windowed from HU to 8 bits; labels 1 (ground-glass) and 2 (consolidation) make
 * the lesion mask.
 */
export async function openNifti(root: string, options: NiftiOptions = {}): Promise<Dataset> {
  const window = options.window ?? LUNG_WINDOW;
  const imageDir = await firstExistingDir(root, IMAGE_DIRS);
  const labelDir = await firstExistingDir(root, LABEL_DIRS);
  if (!imageDir) {
    throw new CovsegError('bad-layout', 'no NIfTI images folder', {
      file: root,
      fix: 'put volumes in images/NAME.nii.gz and their label volumes in labels/NAME.nii.gz',
    });
  }
  const images = await listVolumes(imageDir);
  const labels = labelDir ? await listVolumes(labelDir) : new Map<string, string>();
  const slices: SliceRef[] = [];
  const listingProblems: DatasetProblem[] = [];

  const volume = cachedNiftiReader();

  for (const [stem, imageFile] of images) {
    const labelFile = labels.get(stem);
    if (!labelFile) {
      listingProblems.push({
        severity: 'error',
        code: 'nifti-without-label',
        file: imageFile,
        message: `volume ${stem} has no label volume`,
        fix: `add labels/${stem}.nii.gz (0 background, 1 ground-glass, 2 consolidation)`,
      });
      continue;
    }
    let image: NiftiVolume;
    let label: NiftiVolume;
    try {
      image = await volume(imageFile);
      label = await volume(labelFile);
    } catch (error) {
      if (!(error instanceof CovsegError)) throw error;
      listingProblems.push({
        severity: 'error',
        code: 'corrupt-file',
        file: error.file ?? imageFile,
        message: error.message,
        fix: error.fix ?? 'replace the file',
      });
      continue;
    }
    if (image.shape.join('x') !== label.shape.join('x')) {
      listingProblems.push({
        severity: 'error',
        code: 'nifti-shape-mismatch',
        file: labelFile,
        message: `label volume of ${stem} is ${label.shape.join('x')} but the image is ${image.shape.join('x')}`,
        fix: 'resample the label volume onto the image grid (nearest neighbour)',
      });
      continue;
    }
    if (affineDifference(image.affine, label.affine) > 1e-3) {
      listingProblems.push({
        severity: 'error',
        code: 'nifti-orientation-mismatch',
        file: labelFile,
        message: `label volume of ${stem} has a different orientation or origin than its image`,
        fix: 'save the labels with the image affine (same sform/qform)',
      });
      continue;
    }
    if (!isAxialStack(image.affine)) {
      listingProblems.push({
        severity: 'warning',
        code: 'nifti-not-axial',
        file: imageFile,
        message: `volume ${stem} is not stored as an axial stack; its k-slices are shown as they are`,
        fix: 'reorient to an axial (RAS or LPS) stack, e.g. with fslreorient2std, for axial slices',
      });
    }
    const depth = image.shape[2];
    for (let z = 0; z < depth; z++) {
      slices.push({ id: `${stem}:z${String(z).padStart(3, '0')}`, source: { kind: 'nifti', image: imageFile, label: labelFile, z } });
    }
  }

  async function decode(ref: SliceRef): Promise<{ slice: SliceData; otherLabels: number }> {
    if (ref.source.kind !== 'nifti') throw new CovsegError('internal', `slice ${ref.id} is not from a NIfTI dataset`);
    const { z } = ref.source;
    const image = await volume(ref.source.image);
    const label = await volume(ref.source.label);
    const [nx, ny] = image.shape;
    const plane = nx * ny;
    const pixels = new Uint8Array(plane);
    const mask = new Uint8Array(plane);
    const classes = new Uint8Array(plane);
    const hu = new Float32Array(plane);
    let otherLabels = 0;
    // Row 0 is the highest j (anterior for RAS-stored volumes), so the slice appears the usual way up.
    for (let j = 0; j < ny; j++) {
      const row = (ny - 1 - j) * nx;
      for (let i = 0; i < nx; i++) {
        const voxel = z * plane + j * nx + i;
        hu[row + i] = image.values[voxel]!;
        pixels[row + i] = windowHu(image.values[voxel]!, window);
        const value = Math.round(label.values[voxel]!);
        if (value === GROUND_GLASS || value === CONSOLIDATION) {
          classes[row + i] = value;
          mask[row + i] = 1;
        } else if (value !== 0) otherLabels++;
      }
    }
    return { slice: { id: ref.id, width: nx, height: ny, image: pixels, mask, labels: classes, hu, ...sliceGeometry(image.affine) }, otherLabels };
  }

  async function inspect(ref: SliceRef): Promise<{ slice?: SliceData; problems: DatasetProblem[] }> {
    const { slice, otherLabels } = await decode(ref);
    const problems: DatasetProblem[] = [];
    if (otherLabels > 0 && ref.source.kind === 'nifti') {
      problems.push({
        severity: 'warning',
        code: 'bad-label-values',
        file: ref.source.label,
        message: `slice ${ref.id} has ${otherLabels} voxel(s) with labels other than 0, 1, 2; they count as background`,
        fix: 'relabel if those voxels are lesion (1 ground-glass, 2 consolidation)',
      });
    }
    return { slice, problems };
  }

  async function load(ref: SliceRef, loadOptions: LoadOptions = {}): Promise<SliceData> {
    return resizeSlice((await decode(ref)).slice, loadOptions.size);
  }

  return { root, format: 'nifti', slices, listingProblems, load, inspect };
}
