import { z } from 'zod';
import { command } from './define';
import { runIdSchema } from './runs';

/** Where a slice's label stands: nobody touched it, a prediction was taken over, a person painted it, or a person checked it. */
export const ANNOTATION_STATUSES = ['unlabelled', 'predicted', 'corrected', 'reviewed'] as const;
export type AnnotationStatus = (typeof ANNOTATION_STATUSES)[number];

/** What made a saved version. */
export const ANNOTATION_SOURCES = ['manual', 'prediction', 'revert'] as const;
export type AnnotationSource = (typeof ANNOTATION_SOURCES)[number];

/** One saved version of a slice's label map (the edit history on disk). */
export interface AnnotationVersion {
  version: number;
  savedAt: string;
  author: string;
  /** The tool(s) of the strokes since the previous version (brush, eraser, fill, lasso, threshold, ...). */
  tool: string;
  source: AnnotationSource;
  status: AnnotationStatus;
  /** The run whose prediction was taken over (source `prediction`). */
  runId?: string;
  /** sha256 of the label bytes (row-major, 0/1/2), the file's name in the store. */
  sha256: string;
  /** Pixels of ground-glass (1) and consolidation (2). */
  counts: [number, number];
}

/** A slice's state in the annotation store. */
export interface AnnotationSliceState {
  sliceId: string;
  status: AnnotationStatus;
  /** 0 when nothing has been saved (the label is the dataset's own). */
  version: number;
  savedAt?: string;
}

/**
 * A slice's editable label in SOURCE pixel coordinates (the slice as the dataset loader yields it,
 * before any display rotation or flip): base64 of row-major bytes 0/1/2.
 */
export interface AnnotationLabel extends AnnotationSliceState {
  width: number;
  height: number;
  labels: string;
  history: AnnotationVersion[];
}

/** A run's prediction of one slice for "start from prediction": lesion probability and the class it would be. */
export interface AnnotationPrediction {
  runId: string;
  width: number;
  height: number;
  /** base64 of bytes 0..255: probability of any lesion (1 - background), quantised. */
  probability: string;
  /** base64 of bytes: the lesion class (1 ground-glass, 2 consolidation) each pixel gets when above the threshold. */
  lesionClass: string;
  /** The run's own threshold (the slider's start). */
  threshold: number;
  /** `lesion`: one class, painted with the selected label; `ggo-consolidation`: each pixel's own class. */
  classes: 'lesion' | 'ggo-consolidation';
}

/** One entry of the review queue. */
export interface AnnotationQueueItem {
  sliceId: string;
  status: AnnotationStatus;
  /** Mean of 1 - |2p - 1| over the slice's pixels, p the lesion probability (0 = sure everywhere, 1 = coin toss everywhere). */
  uncertainty: number;
  /** Dice between the prediction and the current label (1 = agree; null when both are empty). */
  agreement: number | null;
}

/** What an export wrote. */
export interface AnnotationExportResult {
  out: string;
  slices: number;
  /** Content hash of the exported labels and their slices: the dataset version runs record. */
  version: string;
  volumes: string[];
}

/** Where a slice's lung mask comes from: computed from the CT, or corrected by a person (and saved in the workspace). */
export type LungMaskSource = 'computed' | 'corrected';

/** A slice's lung mask in the lung-correction store. */
export interface LungMaskState {
  sliceId: string;
  source: LungMaskSource;
  /** The store's newest version (0: never corrected); a save names it as its base. */
  version: number;
  savedAt?: string;
}

/**
 * A slice's lung mask to correct, in SOURCE pixel coordinates: base64 of row-major bytes, 0 outside,
 * 1 and 2 the two lungs (as the computed mask numbers them: 1 on the image's left, 2 on its right).
 */
export interface LungMaskLabel extends LungMaskState {
  width: number;
  height: number;
  /** The mask in use: the correction, or the computed one. */
  lung: string;
  /** The mask computed from the CT, for "reset to computed". */
  computed: string;
  history: AnnotationVersion[];
}

const datasetId = z.string().min(1).max(4096);
const sliceId = z.string().min(1).max(1024);
const base64 = z.string().max(64 * 1024 * 1024);

export const saveAnnotationRequest = z.object({
  datasetId,
  sliceId,
  /** The version the edit started from (0: the dataset's own labels). */
  baseVersion: z.number().int().min(0),
  labels: base64,
  tool: z.string().max(200).default('brush'),
  source: z.enum(ANNOTATION_SOURCES).default('manual'),
  status: z.enum(ANNOTATION_STATUSES),
  runId: runIdSchema.optional(),
  author: z.string().max(200).optional(),
});
const sliceRequest = z.object({ datasetId, sliceId });
export const saveLungRequest = z.object({
  datasetId,
  sliceId,
  /** The version the correction started from (0: never corrected). */
  baseVersion: z.number().int().min(0),
  /** base64 of row-major bytes 0/1/2 (1 and 2 the two lungs). */
  lung: base64,
  tool: z.string().max(200).default('brush'),
  author: z.string().max(200).optional(),
});
const resetLungRequest = z.object({
  datasetId,
  sliceId,
  baseVersion: z.number().int().min(0),
  /** What brought the lung back to the computed one (the reset button, or undoing every stroke). */
  tool: z.string().max(200).default('reset to computed'),
});
const revertRequest = z.object({ datasetId, sliceId, version: z.number().int().min(1), baseVersion: z.number().int().min(0) });
const predictionRequest = z.object({ runId: runIdSchema, datasetId, sliceId });
const queueRequest = z.object({ runId: runIdSchema, datasetId, order: z.enum(['uncertainty', 'agreement']).default('uncertainty') });
const datasetRequest = z.object({ datasetId });

export const annotationsCommands = {
  /** Status of every slice of an open dataset in the workspace's annotation store. */
  status: command<typeof datasetRequest, AnnotationSliceState[]>(datasetRequest),
  /** The slice's current label (the newest saved version, else the dataset's own labels) and its history. */
  get: command<typeof sliceRequest, AnnotationLabel>(sliceRequest),
  /**
   * Saves a new version. When another window saved since `baseVersion`, the save fails with code
   * `busy` ("saved elsewhere") instead of overwriting that edit.
   */
  save: command<typeof saveAnnotationRequest, AnnotationSliceState>(saveAnnotationRequest),
  /** Makes an old version current again (as a new version, so nothing is lost). */
  revert: command<typeof revertRequest, AnnotationSliceState>(revertRequest),
  /** A run's prediction of one slice with probabilities, for the threshold slider. */
  prediction: command<typeof predictionRequest, AnnotationPrediction>(predictionRequest),
  /** Slices needing review (not yet reviewed), most uncertain or worst agreeing first. */
  queue: command<typeof queueRequest, AnnotationQueueItem[]>(queueRequest),
  /** Exports the corrected and reviewed slices as a new dataset version in the workspace (frames/, masks/, labels/). */
  export: command<typeof datasetRequest, AnnotationExportResult>(datasetRequest),
  /** The slice's lung mask (the saved correction, else the computed one), the computed one and the correction history. */
  lung: command<typeof sliceRequest, LungMaskLabel>(sliceRequest),
  /** Saves a corrected lung mask as a new version (`busy` when another window saved since `baseVersion`). */
  saveLung: command<typeof saveLungRequest, LungMaskState>(saveLungRequest),
  /** Goes back to the computed lung mask for the slice (a new version; the correction stays in the history). */
  resetLung: command<typeof resetLungRequest, LungMaskState>(resetLungRequest),
};
export const annotationsEvents = {};
