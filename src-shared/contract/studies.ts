import { z } from 'zod';
import { command, event } from './define';
import { runIdSchema } from './runs';

/** Lesion volume of one class in a predicted label volume. */
export interface ClassBurden {
  /** Label value in the volume (1 lesion; or 1 ground-glass, 2 consolidation). */
  value: number;
  name: string;
  voxels: number;
  /** voxels x voxel volume, in millilitres (1 mL = 1000 mm^3). */
  volumeMl: number;
  /** Percent of the lung volume this class takes (its voxels inside the lung mask); null without lungs. */
  lungPercent: number | null;
}

/** One lung of a study (the patient's right or left, by the volume's affine) and the lesion inside it. */
export interface LungBurden {
  side: 'right' | 'left';
  voxels: number;
  volumeMl: number;
  /** Lesion voxels inside this lung, in mL. */
  lesionVolumeMl: number;
  /** Lesion inside this lung / its volume, percent; null when this lung was not found. */
  involvedPercent: number | null;
  /** Per lesion class, in label order: mL inside this lung and percent of it. */
  classes: { value: number; name: string; volumeMl: number; percent: number | null }[];
}

/** The lesion burden of one study, computed from its predicted label volume. */
export interface LesionBurden {
  /** Volume of one voxel in mL: |det| of the affine's 3x3 part (mm^3) / 1000. */
  voxelVolumeMl: number;
  /** Every lesion class, in label order. */
  classes: ClassBurden[];
  /** All lesion classes together. */
  lesionVoxels: number;
  lesionVolumeMl: number;
  /** Axial (k) slices with at least one lesion voxel, and all slices of the volume. */
  slicesInvolved: number;
  slices: number;
  /** slicesInvolved / slices, 0..1. */
  fractionSlicesInvolved: number;
  /**
   * Percent of the lung volume that is lesion: lesion voxels inside the lung mask computed on each
   * axial slice (engine/imaging/lung-mask.ts) / lung voxels; null when no lung was found (see lungInvolvedNote).
   */
  lungInvolvedPercent: number | null;
  lungInvolvedNote: string;
  /** Volume of the lung mask in mL (both lungs, and slices where the side is unknown); null when no lung was found. */
  lungVolumeMl: number | null;
  /** The patient's right then left lung. */
  lungs: LungBurden[];
}

/** A finished whole-study prediction, as the app shows it. */
export interface StudyPredictionResult {
  jobId: string;
  runId: string;
  /** The study's name in the dataset (`NAME` of its slices `NAME:z042`). */
  study: string;
  /** The label volume written (in the workspace, never in the dataset) and its burden report. */
  output: string;
  reportJson: string;
  shape: [number, number, number];
  classes: 'lesion' | 'ggo-consolidation';
  /** Which inference engine ran, e.g. `onnxruntime-node 1.30.0 (cpu)`. */
  engine: string;
  burden: LesionBurden;
}

/** Pushed while a study is predicted (progress after each batch of slices), and once at its end. */
export type StudyProgress =
  | { jobId: string; kind: 'progress'; done: number; total: number }
  | { jobId: string; kind: 'completed'; result: StudyPredictionResult }
  | { jobId: string; kind: 'cancelled' }
  | { jobId: string; kind: 'failed'; message: string };

const datasetId = z.string().min(1).max(4096);
const sliceId = z.string().min(1).max(1024);
const jobId = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/);

export const predictStudyRequest = z.object({
  datasetId,
  /** Any slice of the study: the whole volume (NIfTI file or DICOM series) it belongs to is predicted. */
  sliceId,
  runId: runIdSchema,
  engine: z.enum(['auto', 'onnx', 'tfjs']).default('auto'),
});

export const studiesCommands = {
  /** Starts predicting every slice of the study `sliceId` belongs to, in a separate `covseg predict` process. */
  predict: command<typeof predictStudyRequest, { jobId: string; study: string; slices: number }>(predictStudyRequest),
  /** Stops a prediction after its current batch; nothing is written. */
  cancel: command<z.ZodObject<{ jobId: typeof jobId }>, { cancelled: boolean }>(z.object({ jobId })),
  /** One slice of a finished prediction's label volume, as runs:prediction gives it (base64 0/1 or 0/1/2, the slice's size). */
  slicePrediction: command<
    z.ZodObject<{ jobId: typeof jobId; datasetId: typeof datasetId; sliceId: typeof sliceId }>,
    { width: number; height: number; mask: string; classes?: 'lesion' | 'ggo-consolidation'; engine?: string }
  >(z.object({ jobId, datasetId, sliceId })),
};
export const studiesEvents = {
  progress: event<StudyProgress>(),
};
