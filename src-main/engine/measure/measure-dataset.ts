import { edgesFromDisplay, lungSides } from '../../../src-shared/lung-sides';
import { IDENTITY_ORIENTATION, type Orientation } from '../../../src-shared/orientation';
import { measureSlice, type LungCount, type SliceMeasurement } from '../../../src-shared/slice-measurements';
import { groupSlices } from '../datasets/study-groups';
import type { Dataset, SliceData } from '../datasets/types';
import { lungMask } from '../imaging/lung-mask';
import type { LungSource } from '../annotations/lung-corrections';

/** A mask to measure besides the ground truth, e.g. a run's prediction of the slice. */
export type PredictMask = (slice: SliceData) => Promise<{ mask: Uint8Array; classes: boolean }>;

export interface MeasurementRow {
  study: string;
  /** A slice id, or `ALL` for the study's total. */
  slice: string;
  source: 'truth' | 'prediction';
  lesionPixels: number;
  lesionAreaMm2: number | null;
  /** Studies of volumes: lesion volume in millilitres (pixels x voxel volume). */
  lesionMl: number | null;
  groundGlassPixels: number;
  consolidationPixels: number;
  groundGlassShare: number | null;
  consolidationShare: number | null;
  lungPixels: number;
  lungInvolved: number | null;
  /** Involvement of the lung on the image's left and right. */
  imageLeftLung: number | null;
  imageRightLung: number | null;
  /**
   * Involvement of the patient's right and left lung: volumes by their affine, PNG slices by the
   * dataset's display orientation (shown radiologically; src-shared/lung-sides.ts); null where unknown.
   */
  rightLung: number | null;
  leftLung: number | null;
  /** The lung the figures divide by: computed from the CT, corrected by a person, or (a study) some of each. */
  lungSource: LungSourceOfRow;
}

/** A slice's lung source, or `mixed` for a study whose slices have both. */
export type LungSourceOfRow = LungSource | 'mixed';

/** A slice's corrected lung map (0 outside, 1 and 2 the lungs, source pixels), or undefined where the computed one applies. */
export type CorrectedLung = (sliceId: string) => Promise<Uint8Array | undefined>;

interface Accumulator {
  m: SliceMeasurement;
  voxelMl: number | null;
  lungSource: LungSourceOfRow;
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

function row(study: string, slice: string, source: MeasurementRow['source'], acc: Accumulator): MeasurementRow {
  const { m } = acc;
  const lungShare = (k: number) => share(m.lungs[k]!.lesionPixels, m.lungs[k]!.lungPixels);
  const patient = (lung: LungCount | null) => (lung ? share(lung.lesionPixels, lung.lungPixels) : null);
  return {
    study,
    slice,
    source,
    lesionPixels: m.lesionPixels,
    lesionAreaMm2: m.lesionAreaMm2,
    lesionMl: acc.voxelMl === null ? null : m.lesionPixels * acc.voxelMl,
    groundGlassPixels: m.groundGlassPixels,
    consolidationPixels: m.consolidationPixels,
    groundGlassShare: m.groundGlassShare,
    consolidationShare: m.consolidationShare,
    lungPixels: m.lungPixels,
    lungInvolved: m.lungInvolved,
    imageLeftLung: lungShare(0),
    imageRightLung: lungShare(1),
    rightLung: patient(m.rightLung),
    leftLung: patient(m.leftLung),
    lungSource: acc.lungSource,
  };
}

function add(total: Accumulator | undefined, next: Accumulator): Accumulator {
  const copy = (lung: LungCount | null) => (lung ? { ...lung } : null);
  if (!total) return { ...next, m: { ...next.m, lungs: next.m.lungs.map((l) => ({ ...l })), rightLung: copy(next.m.rightLung), leftLung: copy(next.m.leftLung) } };
  const a = total.m;
  const b = next.m;
  a.lesionPixels += b.lesionPixels;
  a.lesionAreaMm2 = a.lesionAreaMm2 !== null && b.lesionAreaMm2 !== null ? a.lesionAreaMm2 + b.lesionAreaMm2 : null;
  a.groundGlassPixels += b.groundGlassPixels;
  a.consolidationPixels += b.consolidationPixels;
  const classified = a.groundGlassPixels + a.consolidationPixels;
  a.groundGlassShare = a.groundGlassShare !== null || b.groundGlassShare !== null ? share(a.groundGlassPixels, classified) : null;
  a.consolidationShare = a.consolidationShare !== null || b.consolidationShare !== null ? share(a.consolidationPixels, classified) : null;
  a.lungPixels += b.lungPixels;
  a.lungs.forEach((l, k) => {
    l.lungPixels += b.lungs[k]!.lungPixels;
    l.lesionPixels += b.lungs[k]!.lesionPixels;
  });
  // A study's lung of one side sums the slices where that side is known.
  const sum = (x: LungCount | null, y: LungCount | null) => (x && y ? { lungPixels: x.lungPixels + y.lungPixels, lesionPixels: x.lesionPixels + y.lesionPixels } : (x ?? copy(y)));
  a.rightLung = sum(a.rightLung, b.rightLung);
  a.leftLung = sum(a.leftLung, b.leftLung);
  a.lungInvolved = share(a.lungs[0]!.lesionPixels + a.lungs[1]!.lesionPixels, a.lungPixels);
  if (total.voxelMl !== next.voxelMl) total.voxelMl = null;
  if (total.lungSource !== next.lungSource) total.lungSource = 'mixed';
  return total;
}

/**
 * Lesion measurements of every slice of a dataset and of every study (the sum of its slices), for
 * the ground truth and, with `predict`, a prediction. Lungs come from the CT (imaging/lung-mask.ts),
 * or from a person's correction where `correctedLung` has one (engine/annotations/lung-corrections.ts).
 */
export async function measureDataset(
  dataset: Dataset,
  options: {
    predict?: PredictMask;
    onProgress?: (done: number, total: number) => void;
    /** The dataset's display orientation (PNG slices' sides). */
    orientation?: Orientation;
    /** Lung corrections saved in the workspace: they replace the computed lung of their slices. */
    correctedLung?: CorrectedLung;
  } = {},
): Promise<MeasurementRow[]> {
  const displayEdges = edgesFromDisplay(options.orientation ?? IDENTITY_ORIENTATION);
  const grouping = groupSlices(
    dataset.slices.map((s) => s.id),
    undefined,
    new Map(dataset.slices.filter((s) => s.study).map((s) => [s.id, s.study!])),
  );
  const rows: MeasurementRow[] = [];
  const studies = new Map<string, Partial<Record<MeasurementRow['source'], Accumulator>>>();
  let done = 0;
  for (const ref of dataset.slices) {
    const slice = await dataset.load(ref);
    const study = grouping.groupOf.get(ref.id) ?? ref.id;
    const spacing = slice.spacing ?? null;
    const corrected = await options.correctedLung?.(ref.id);
    const usable = corrected && corrected.length === slice.width * slice.height ? corrected : undefined;
    const lung = usable ?? lungMask(slice.image, slice.width, slice.height, spacing ? { spacing } : {}).labels;
    const lungSource: LungSource = usable ? 'corrected' : 'computed';
    const voxelMl = spacing ? (spacing[0] * spacing[1] * spacing[2]) / 1000 : null;
    const sides = lungSides(lung, slice.width, slice.height, slice.edges ?? displayEdges);
    const sources: [MeasurementRow['source'], SliceMeasurement][] = [['truth', measureSlice({ width: slice.width, height: slice.height, lesion: slice.mask, classes: slice.labels ?? null, lung, spacing, sides })]];
    if (options.predict) {
      const predicted = await options.predict(slice);
      sources.push(['prediction', measureSlice({ width: slice.width, height: slice.height, lesion: predicted.mask, classes: predicted.classes ? predicted.mask : null, lung, spacing, sides })]);
    }
    const totals = studies.get(study) ?? {};
    for (const [source, m] of sources) {
      const acc = { m, voxelMl, lungSource };
      rows.push(row(study, ref.id, source, acc));
      totals[source] = add(totals[source], acc);
    }
    studies.set(study, totals);
    options.onProgress?.(++done, dataset.slices.length);
  }
  for (const [study, totals] of studies) for (const source of ['truth', 'prediction'] as const) if (totals[source]) rows.push(row(study, 'ALL', source, totals[source]!));
  return rows;
}

const COLUMNS: [string, (r: MeasurementRow) => string | number | null][] = [
  ['study', (r) => r.study],
  ['slice', (r) => r.slice],
  ['source', (r) => r.source],
  ['lesion_px', (r) => r.lesionPixels],
  ['lesion_mm2', (r) => r.lesionAreaMm2],
  ['lesion_ml', (r) => (r.slice === 'ALL' ? r.lesionMl : null)],
  ['ground_glass_px', (r) => r.groundGlassPixels],
  ['consolidation_px', (r) => r.consolidationPixels],
  ['ground_glass_share', (r) => r.groundGlassShare],
  ['consolidation_share', (r) => r.consolidationShare],
  ['lung_px', (r) => r.lungPixels],
  ['lung_involved', (r) => r.lungInvolved],
  ['image_left_lung_involved', (r) => r.imageLeftLung],
  ['image_right_lung_involved', (r) => r.imageRightLung],
  ['right_lung_involved', (r) => r.rightLung],
  ['left_lung_involved', (r) => r.leftLung],
  ['lung_source', (r) => r.lungSource],
];

const cell = (value: string | number | null) => {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4);
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
};

/** CSV text of the rows (shares as fractions 0-1, empty where unknown). */
export function measurementsCsv(rows: readonly MeasurementRow[]): string {
  return [COLUMNS.map(([name]) => name).join(','), ...rows.map((r) => COLUMNS.map(([, get]) => cell(get(r))).join(','))].join('\n') + '\n';
}
