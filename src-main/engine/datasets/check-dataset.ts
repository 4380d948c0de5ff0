import { canonicalOrientation } from '../imaging/anatomical-orientation';
import { formatOrientation, IDENTITY_ORIENTATION, type Orientation } from '../../../src-shared/orientation';
import type { DicomSeriesInfo } from './dicom-series';
import { openDataset } from './open-dataset';
import type { NiftiOptions } from './nifti-dataset';
import { datasetAnatomy, orientationProblem, type DatasetAnatomy } from './rotation-check';
import { scanDataset, type DatasetScan, type SliceSummary } from './scan-dataset';
import type { Dataset, DatasetFormat, DatasetProblem } from './types';

export interface Distribution {
  min: number;
  median: number;
  mean: number;
  max: number;
}

/** The result of `covseg dataset check`: counts, distributions and every problem found. */
export interface DatasetReport {
  root: string;
  format: DatasetFormat;
  /** Slices listed (pairs found, or NIfTI slices of usable volumes). */
  slices: number;
  /** Slices that decode and have no fatal problem: what training can use. */
  validSlices: number;
  sizes: { size: string; count: number }[];
  width: { min: number; max: number };
  height: { min: number; max: number };
  /** Lesion pixels / all pixels, over valid slices. */
  lesionFraction: Distribution;
  emptyMasks: number;
  /** Present when the source has class labels. */
  classes?: {
    labelledSlices: number;
    groundGlass: { slices: number; pixels: number };
    consolidation: { slices: number; pixels: number };
  };
  duplicates: number;
  /** DICOM datasets: every series found (slices, size, spacing, gaps, duplicates; why one is left out). */
  series?: DicomSeriesInfo[];
  /**
   * PNG datasets: how they are shown (the saved display orientation) and what the anatomy of up to
   * 24 sampled slices says (anatomical-orientation.ts): the majority, when clear, and every vote.
   */
  orientation?: { shown: string; anatomy?: string; votes: { orientation: string; slices: number }[]; sampled: number; abstained: number };
  problems: DatasetProblem[];
  errors: number;
  warnings: number;
  contentHash: string;
}

function distribution(values: number[]): Distribution {
  if (values.length === 0) return { min: 0, median: 0, mean: 0, max: 0 };
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, mean: sorted.reduce((s, v) => s + v, 0) / sorted.length, max: sorted[sorted.length - 1]! };
}

function duplicateProblems(summaries: SliceSummary[]): DatasetProblem[] {
  const firstByHash = new Map<string, SliceSummary>();
  const problems: DatasetProblem[] = [];
  for (const summary of summaries) {
    if (!summary.imageHash) continue;
    const first = firstByHash.get(summary.imageHash);
    if (!first) {
      firstByHash.set(summary.imageHash, summary);
      continue;
    }
    problems.push({
      severity: 'warning',
      code: 'duplicate-image',
      file: summary.file,
      message: `${summary.id} has the same pixels as ${first.id} (${first.file})`,
      fix: 'remove one copy; duplicates in different splits leak test data into training',
    });
  }
  return problems;
}

export interface CheckOptions extends NiftiOptions {
  onProgress?: (done: number, total: number) => void;
  /** How the dataset is shown (its saved display orientation; identity when absent): PNG slices are checked as shown. */
  orientation?: Orientation;
}

/** Opens and validates a dataset folder, reading every slice once. */
export async function checkDataset(root: string, options: CheckOptions = {}): Promise<DatasetReport> {
  return (await inspectDataset(root, options)).report;
}

/** {@link checkDataset} that also hands back the opened dataset and its scan, for callers that need them. */
export async function inspectDataset(root: string, options: CheckOptions = {}): Promise<{ dataset: Dataset; scan: DatasetScan; report: DatasetReport; anatomy?: DatasetAnatomy }> {
  const dataset = await openDataset(root, options);
  const scan = await scanDataset(dataset, options.onProgress);
  const problems = [...scan.problems, ...duplicateProblems(scan.summaries)];
  const valid = scan.summaries.filter((s) => s.valid);
  const saved = options.orientation ?? IDENTITY_ORIENTATION;
  const anatomy = dataset.format === 'png-pairs' && valid.length > 0 ? await datasetAnatomy(dataset, new Set(valid.map((s) => s.id))) : undefined;
  const rotated = anatomy && orientationProblem(root, anatomy, saved);
  if (rotated) problems.push(rotated);
  if (dataset.slices.length === 0) {
    problems.push({
      severity: 'error',
      code: 'empty-dataset',
      file: root,
      message: 'the dataset has no usable slices',
      fix:
        dataset.format === 'dicom'
          ? 'give each CT series a label volume in labels/ (see the problems above for the names expected)'
          : dataset.format === 'nifti'
          ? 'check that images/ (or imagesTr/) holds NAME.nii.gz volumes with at least one slice, each with labels/NAME.nii.gz on the same grid'
          : 'check that frames/ and masks/ hold images with matching names',
    });
  }
  const sizeCounts = new Map<string, number>();
  for (const s of valid) sizeCounts.set(`${s.width}x${s.height}`, (sizeCounts.get(`${s.width}x${s.height}`) ?? 0) + 1);
  const labelled = valid.filter((s) => s.hasLabels);
  const report: DatasetReport = {
    root,
    format: dataset.format,
    slices: dataset.slices.length,
    validSlices: valid.length,
    sizes: [...sizeCounts].map(([size, count]) => ({ size, count })).sort((a, b) => b.count - a.count || a.size.localeCompare(b.size)),
    width: { min: Math.min(...valid.map((s) => s.width), Infinity), max: Math.max(...valid.map((s) => s.width), 0) },
    height: { min: Math.min(...valid.map((s) => s.height), Infinity), max: Math.max(...valid.map((s) => s.height), 0) },
    lesionFraction: distribution(valid.map((s) => s.lesionPixels / (s.width * s.height))),
    emptyMasks: valid.filter((s) => s.lesionPixels === 0).length,
    duplicates: problems.filter((p) => p.code === 'duplicate-image').length,
    problems,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    contentHash: scan.contentHash,
  };
  if (valid.length === 0) {
    report.width.min = 0;
    report.height.min = 0;
  }
  if (dataset.series) report.series = dataset.series;
  if (anatomy) {
    const { vote } = anatomy;
    report.orientation = {
      shown: formatOrientation(canonicalOrientation(saved)),
      ...(vote.orientation ? { anatomy: formatOrientation(vote.orientation) } : {}),
      votes: vote.votes,
      sampled: vote.sampled,
      abstained: vote.abstained,
    };
  }
  if (labelled.length > 0) {
    report.classes = {
      labelledSlices: labelled.length,
      groundGlass: { slices: labelled.filter((s) => s.groundGlassPixels > 0).length, pixels: labelled.reduce((n, s) => n + s.groundGlassPixels, 0) },
      consolidation: {
        slices: labelled.filter((s) => s.consolidationPixels > 0).length,
        pixels: labelled.reduce((n, s) => n + s.consolidationPixels, 0),
      },
    };
  }
  return { dataset, scan, report, ...(anatomy ? { anatomy } : {}) };
}
