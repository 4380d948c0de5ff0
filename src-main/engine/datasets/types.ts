import type { DicomSeriesInfo } from './dicom-series';

/** Where one slice's pixels come from. */
export type SliceSource =
  | { kind: 'png'; frame: string; mask: string; labels?: string }
  | { kind: 'nifti'; image: string; label: string; z: number }
  /** `image` is this slice's own DICOM file; `label` the series' NIfTI label volume; `z` the slice index in the series. */
  | { kind: 'dicom'; image: string; label: string; z: number; series: string };

/** One axial slice of a dataset, before decoding. */
export interface SliceRef {
  /** Unique and stable within the dataset: the file stem, or `volume:z042` for NIfTI. */
  id: string;
  source: SliceSource;
  /** The study the slice belongs to, when the source says so (DICOM StudyInstanceUID): splits keep it together. */
  study?: string;
}

/**
 * A decoded slice. All arrays are row-major `[height, width]`.
 * - `image`: 8-bit windowed CT intensities.
 * - `mask`: 0 background, 1 lesion (already thresholded).
 * - `labels`: 0 background, 1 ground-glass, 2 consolidation, when the source has class labels.
 */
export interface SliceData {
  id: string;
  width: number;
  height: number;
  image: Uint8Array;
  mask: Uint8Array;
  labels?: Uint8Array;
  /** NIfTI sources: Hounsfield values of the same pixels, for window/level in the viewer. */
  hu?: Float32Array;
  /** Volumes: the anatomical direction at each edge of the slice as stored ('A', 'P', 'R', 'L', 'S', 'I'). */
  edges?: { top: string; bottom: string; left: string; right: string };
  /** Volumes: pixel size in mm, [column, row, slice distance]. */
  spacing?: [number, number, number];
}

export type ProblemSeverity = 'error' | 'warning';

export type ProblemCode =
  | 'corrupt-file'
  | 'image-too-large'
  | 'bad-file-name'
  | 'frame-without-mask'
  | 'mask-without-frame'
  | 'labels-without-frame'
  | 'size-mismatch'
  | 'non-binary-mask'
  | 'mask-labels-disagree'
  | 'bad-label-values'
  | 'duplicate-image'
  | 'nifti-shape-mismatch'
  | 'nifti-orientation-mismatch'
  | 'nifti-not-axial'
  | 'nifti-without-label'
  | 'dicom-without-label'
  | 'dicom-not-image'
  | 'dicom-not-ct'
  | 'dicom-unsupported'
  | 'dicom-no-geometry'
  | 'dicom-mixed-sizes'
  | 'dicom-mixed-geometry'
  | 'dicom-duplicate-position'
  | 'dicom-gap'
  | 'empty-dataset'
  | 'looks-rotated'
  | 'looks-mirrored'
  | 'looks-upside-down';

/** A problem found in a dataset: which file, what is wrong, and what to do about it. */
export interface DatasetProblem {
  severity: ProblemSeverity;
  code: ProblemCode;
  file: string;
  message: string;
  fix: string;
}

export type DatasetFormat = 'png-pairs' | 'nifti' | 'dicom';

export interface LoadOptions {
  /** Resize to this square size (bilinear image, nearest mask and labels). Originals stay untouched. */
  size?: number;
}

/** A dataset opened from disk: its slices, the problems found while listing them, and a loader. */
export interface Dataset {
  root: string;
  format: DatasetFormat;
  slices: SliceRef[];
  /** Problems visible from the file listing alone (missing pairs, unreadable headers). */
  listingProblems: DatasetProblem[];
  /** DICOM datasets: every series found, including those left out and why. */
  series?: DicomSeriesInfo[];
  /** Decodes one slice; throws a CovsegError naming the file when it cannot. */
  load(ref: SliceRef, options?: LoadOptions): Promise<SliceData>;
  /** Problems of one slice that need its pixels (non-binary mask, size mismatch, ...). */
  inspect(ref: SliceRef): Promise<{ slice?: SliceData; problems: DatasetProblem[] }>;
}
