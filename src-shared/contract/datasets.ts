import { z } from 'zod';
import { orientationSchema, type Orientation } from '../orientation';
import { command, event } from './define';

export interface DatasetProblemView {
  severity: 'error' | 'warning';
  code: string;
  file: string;
  message: string;
  fix: string;
}

/** What `dataset check` reports, as the app shows it. */
export interface DatasetReportView {
  root: string;
  format: 'png-pairs' | 'nifti' | 'dicom';
  slices: number;
  validSlices: number;
  sizes: { size: string; count: number }[];
  lesionFraction: { min: number; median: number; mean: number; max: number };
  emptyMasks: number;
  classes?: { labelledSlices: number; groundGlass: { slices: number; pixels: number }; consolidation: { slices: number; pixels: number } };
  duplicates: number;
  problems: DatasetProblemView[];
  errors: number;
  warnings: number;
}

export interface OpenedDataset {
  /** Id for later calls: the dataset's absolute path. */
  id: string;
  report: DatasetReportView;
}

/** A dataset opened before, newest first (stored in the workspace's settings.json). */
export interface RecentDataset {
  path: string;
  format: DatasetReportView['format'];
  slices: number;
  openedAt: string;
}

/** A folder listing for the browser-mode folder picker: sub-folders of one folder under the allowed roots. */
export interface FolderListing {
  /** The folder listed, or null for the list of allowed roots itself. */
  path: string | null;
  /** Its parent when that is still under an allowed root; null at a root. */
  parent: string | null;
  folders: { name: string; path: string; /** The folder holds a dataset layout (frames/+masks/, images/+labels/, DICOM). */ dataset: boolean }[];
}

/** What the anatomy of sampled slices says about how to show a dataset (spine at the bottom, heart on the screen's right). */
export interface OrientationSuggestion {
  /** The orientation most sampled slices agree on; null when there is no clear majority. */
  orientation: Orientation | null;
  /** Votes per orientation (`rot90+flipH` ...), most first. */
  votes: { orientation: string; slices: number }[];
  sampled: number;
  /** Sampled slices whose anatomy gave no answer (lungs, spine or heart not clear). */
  abstained: number;
}

export const datasetsCommands = {
  /**
   * Opens and checks a dataset folder (server: only under the allowed roots). The path is trimmed and a
   * leading `~` means the user's home; an empty path gets a plain message rather than a schema error.
   */
  open: command<z.ZodObject<{ path: z.ZodString }>, OpenedDataset>(z.object({ path: z.string().max(4096) })),
  /** Datasets opened before, newest first (at most 10). */
  recent: command<z.ZodObject<Record<string, never>>, RecentDataset[]>(z.object({})),
  /** Sub-folders of a folder under the allowed roots (no path: the roots), for picking a folder in a browser. */
  browse: command<z.ZodObject<{ path: z.ZodOptional<z.ZodString> }>, FolderListing>(z.object({ path: z.string().max(4096).optional() })),
  /** Electron: a native folder dialog; server: not available (returns null). */
  pickFolder: command<z.ZodObject<Record<string, never>>, string | null>(z.object({})),
  /** Writes the built-in synthetic sample if needed and opens it. */
  openSample: command<z.ZodObject<Record<string, never>>, OpenedDataset>(z.object({})),
  /** How the dataset's slices are shown (rotation, flips), remembered in the workspace settings. */
  /** Lesion measurements of every slice and study as CSV (what `covseg measure` writes), with a run's predictions when given. */
  measure: command<z.ZodObject<{ datasetId: z.ZodString; runId: z.ZodOptional<z.ZodString> }>, string>(
    z.object({ datasetId: z.string().min(1).max(4096), runId: z.string().min(1).max(256).optional() }),
  ),
  getOrientation: command<z.ZodObject<{ datasetId: z.ZodString }>, Orientation>(z.object({ datasetId: z.string().min(1).max(4096) })),
  setOrientation: command<z.ZodObject<{ datasetId: z.ZodString; orientation: typeof orientationSchema }>, Orientation>(
    z.object({ datasetId: z.string().min(1).max(4096), orientation: orientationSchema }),
  ),
  /**
   * The open dataset's report as it stands: its orientation warnings (`looks-rotated`, `looks-mirrored`,
   * `looks-upside-down`) follow the orientation saved since it was opened, so turning the picture clears them.
   */
  report: command<z.ZodObject<{ datasetId: z.ZodString }>, DatasetReportView>(z.object({ datasetId: z.string().min(1).max(4096) })),
  /** The orientation the anatomy of up to 24 sampled slices says (spine posterior, heart on the patient's left); sets nothing. */
  suggestOrientation: command<z.ZodObject<{ datasetId: z.ZodString }>, OrientationSuggestion>(z.object({ datasetId: z.string().min(1).max(4096) })),
};
/** Pushed while a dataset opens: slices checked so far (throttled; the last has done = total). */
export interface DatasetOpenProgress {
  path: string;
  done: number;
  total: number;
}

export const datasetsEvents = {
  progress: event<DatasetOpenProgress>(),
};
