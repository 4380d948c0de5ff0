import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { LesionBurden } from '../../../src-shared/contract/studies';
import { selectBackend, type BackendChoice } from '../backend/select-backend';
import { LUNG_WINDOW, type HuWindow } from '../datasets/hu-window';
import { readNifti1HeaderBytes, writeLabelNifti } from '../datasets/nifti-write';
import { readVolume } from '../datasets/read-volume';
import type { DatasetProblem } from '../datasets/types';
import { CovsegError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../files/atomic-write';
import { refuseInsideInputs } from '../files/output-guard';
import { decideClasses, resizeProbabilities } from '../imaging/resize-probabilities';
import { resizeGray } from '../imaging/resize';
import { openEngine, type EngineChoice } from '../onnx/segmentation-engine';
import { loadCheckpoint } from '../runs/checkpoints';
import { readRun } from '../runs/read-run';
import { CLASS_NAMES, taskOf, type ClassTask } from '../training/class-task';
import { BURDEN_CSV_HEADER, burdenCsvLine, lesionBurden } from './lesion-burden';
import { axialSlice } from './axial-slice';
import { volumeLungs } from './volume-lungs';

const NIFTI_OUT = /\.nii(\.gz)?$/i;

/** Slices per engine call when the caller does not say. */
export const DEFAULT_VOLUME_BATCH = 8;

export interface VolumePredictionOptions {
  engine?: EngineChoice;
  backend?: BackendChoice;
  checkpoint?: 'best' | 'last';
  /** Slices per engine call (default {@link DEFAULT_VOLUME_BATCH}). */
  batch?: number;
  /** HU window the slices are shown to the model through; the lung window, as in training, by default. */
  window?: HuWindow;
  /** Replace an existing output (never one inside an input). */
  force?: boolean;
  /** The option that named the output, for messages (`--out`). */
  flag?: string;
  /** Stops between batches; the output is then not written. */
  signal?: AbortSignal;
  onEngine?: (description: string) => void;
  /** After each batch: slices predicted so far, of all. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** What {@link predictVolume} wrote and measured. */
export interface VolumePrediction {
  input: string;
  format: 'nifti' | 'dicom';
  /** The label volume (NIfTI) and the burden report beside it (JSON, and CSV header + one line). */
  output: string;
  reportJson: string;
  reportCsv: string;
  shape: [number, number, number];
  affine: number[][];
  classes: ClassTask;
  engine: string;
  burden: LesionBurden;
  csvLine: string;
  seconds: number;
  /** Warnings met reading a DICOM series (gaps, duplicates). */
  problems: DatasetProblem[];
}

/** The burden report paths beside a label volume: `OUT.nii.gz` -> `OUT.burden.json`, `OUT.burden.csv`. */
export function burdenReportPaths(out: string): { json: string; csv: string } {
  const stem = out.replace(NIFTI_OUT, '');
  return { json: `${stem}.burden.json`, csv: `${stem}.burden.csv` };
}

/** Checks the output before anything is read or predicted: a NIfTI path, outside every input, new unless forced. */
async function guardVolumeOutput(out: string, inputs: string[], options: VolumePredictionOptions): Promise<void> {
  const flag = options.flag ?? '--out';
  if (!NIFTI_OUT.test(out)) throw new CovsegError('bad-parameter', `${flag} must name a NIfTI file (.nii.gz or .nii), got "${out}"`, { fix: `e.g. ${flag} study-labels.nii.gz` });
  const reports = burdenReportPaths(out);
  for (const file of [out, reports.json, reports.csv]) {
    await refuseInsideInputs(file, { flag, inputs }, 'predictions');
    const info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) throw new CovsegError('unsafe-output', `${flag} ${file} is a folder, but a file is expected`, { file: resolve(file), fix: `give a file path, e.g. ${flag} study-labels.nii.gz` });
    if (info && !options.force) {
      throw new CovsegError('unsafe-output', `${file} already exists`, { file: resolve(file), fix: `choose another ${flag}, or add --force to overwrite it` });
    }
  }
}

/**
 * Predicts every axial slice of a study (a NIfTI volume or a folder with one DICOM series) with a
 * run's checkpoint and writes the label volume on the source grid: same dimensions, and for NIfTI
 * input the source's own qform/sform header fields (DICOM: the affine from its geometry, as qform and
 * sform). Labels are 0/1, or 0/1/2 (ground-glass, consolidation) for three-class runs. Each slice is
 * resized to the run's size, predicted, its probabilities resized back bilinearly and only then
 * thresholded or argmaxed — as `covseg predict` on PNG slices. Also writes the lesion burden beside
 * the volume, with the percent of each lung involved (lungs from the CT, volume-lungs.ts). Nothing is written when it fails or is cancelled.
 */
export async function predictVolume(runDir: string, input: string, out: string, options: VolumePredictionOptions = {}): Promise<VolumePrediction> {
  const started = performance.now();
  const run = await readRun(runDir);
  const { config } = run.record;
  // The folder holding a study file is protected as well as the run's own dataset: a label volume
  // beside the CT it came from would pass for data (a dataset's images/ with no labels/ yet).
  const studyFolder = (await stat(input).catch(() => undefined))?.isFile() ? dirname(input) : input;
  await guardVolumeOutput(out, [studyFolder, run.dir, config.data], options);
  const batch = options.batch ?? DEFAULT_VOLUME_BATCH;
  if (!Number.isInteger(batch) || batch < 1 || batch > 256) throw new CovsegError('bad-parameter', `--batch must be a whole number from 1 to 256, got ${batch}`);
  const cancelled = () => new CovsegError('cancelled', 'volume prediction cancelled; nothing was written', { file: out });
  const source = await readVolume(input);
  const { volume } = source;
  const [nx, ny, nz] = volume.shape;
  const plane = nx * ny;
  const task = taskOf(config);
  const window = options.window ?? LUNG_WINDOW;
  const size = config.size;
  await selectBackend(options.backend ?? config.backend);
  const { model } = await loadCheckpoint(run.dir, options.checkpoint ?? 'best');
  let engineDescription: string;
  const labels = new Uint8Array(plane * nz);
  try {
    const engine = await openEngine(options.engine ?? 'auto', model, config.model);
    engineDescription = engine.description;
    options.onEngine?.(engine.description);
    try {
      for (let start = 0; start < nz; start += batch) {
        if (options.signal?.aborted) throw cancelled();
        const count = Math.min(batch, nz - start);
        const x = new Float32Array(count * size * size);
        for (let b = 0; b < count; b++) {
          const resized = await resizeGray(axialSlice(volume, start + b, window), size, size, 'bilinear');
          for (let p = 0; p < size * size; p++) x[b * size * size + p] = resized.data[p]! / 255;
        }
        const { probabilities, classes } = await engine.run(x, count, size);
        for (let b = 0; b < count; b++) {
          const k = start + b;
          const onModelGrid = probabilities.subarray(b * size * size * classes, (b + 1) * size * size * classes);
          const decided = decideClasses(resizeProbabilities(onModelGrid, size, size, classes, nx, ny), classes, config.threshold);
          for (let row = 0; row < ny; row++) labels.set(decided.subarray(row * nx, (row + 1) * nx), k * plane + (ny - 1 - row) * nx);
        }
        options.onProgress?.({ done: start + count, total: nz });
      }
    } finally {
      engine.dispose();
    }
  } finally {
    model.dispose();
  }
  if (options.signal?.aborted) throw cancelled();
  const classNames = CLASS_NAMES[task];
  const lungs = volumeLungs(volume);
  const burden = lesionBurden(labels, volume.shape, volume.affine, classNames, lungs);
  const template = source.format === 'nifti' ? await readNifti1HeaderBytes(input) : undefined;
  const reports = burdenReportPaths(out);
  const csvLine = burdenCsvLine(resolve(input), run.dir, engineDescription, burden);
  await writeLabelNifti(out, { shape: volume.shape, affine: volume.affine, labels, maxLabel: classNames.length - 1, ...(template ? { template } : {}) });
  const result: VolumePrediction = {
    input: resolve(input),
    format: source.format,
    output: resolve(out),
    reportJson: resolve(reports.json),
    reportCsv: resolve(reports.csv),
    shape: volume.shape,
    affine: volume.affine,
    classes: task,
    engine: engineDescription,
    burden,
    csvLine,
    seconds: (performance.now() - started) / 1000,
    problems: source.problems,
  };
  await writeJsonAtomic(reports.json, { input: result.input, format: result.format, output: result.output, run: run.dir, shape: result.shape, affine: result.affine, classes: task, engine: result.engine, burden });
  await writeFileAtomic(reports.csv, `${BURDEN_CSV_HEADER}\n${csvLine}\n`);
  return result;
}
