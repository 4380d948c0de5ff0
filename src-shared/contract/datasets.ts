import { z } from 'zod';
import { orientationSchema, type Orientation } from '../orientation';
import { command } from './define';

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

export const datasetsCommands = {
  /** Opens and checks a dataset folder (server: only under the allowed roots). */
  open: command<z.ZodObject<{ path: z.ZodString }>, OpenedDataset>(z.object({ path: z.string().min(1).max(4096) })),
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
};
export const datasetsEvents = {};
