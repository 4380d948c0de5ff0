import { edgesFromDisplay } from '../../../src-shared/lung-sides';
import { formatOrientation, IDENTITY_ORIENTATION, orientEdges, type Orientation } from '../../../src-shared/orientation';
import { canonicalOrientation, estimateAnatomicalOrientation, voteOrientation, type OrientationVote } from '../imaging/anatomical-orientation';
import { lungArrangement, lungMask } from '../imaging/lung-mask';
import type { Dataset, DatasetProblem } from './types';

/** Slices looked at: spread over the dataset, enough for a majority vote, cheap on big sets. */
const SAMPLED = 24;

/** What the anatomy of a PNG dataset's sampled slices says about how they are stored. */
export interface DatasetAnatomy {
  /** The per-slice anatomical estimates' majority (anatomical-orientation.ts). */
  vote: OrientationVote;
  /** Sampled slices whose two lungs lie above each other / side by side as stored. */
  stacked: number;
  sideBySide: number;
}

/** Samples up to 24 valid slices, spread over the dataset, and reads their anatomy. */
export async function datasetAnatomy(dataset: Dataset, validIds: ReadonlySet<string>): Promise<DatasetAnatomy> {
  const refs = dataset.slices.filter((s) => validIds.has(s.id));
  const step = Math.max(1, Math.floor(refs.length / SAMPLED));
  let stacked = 0;
  let sideBySide = 0;
  const estimates = [];
  for (let k = 0; k < refs.length && k / step < SAMPLED; k += step) {
    const slice = await dataset.load(refs[k]!);
    const found = lungMask(slice.image, slice.width, slice.height);
    const arrangement = lungArrangement(found);
    if (arrangement === 'stacked') stacked++;
    else if (arrangement === 'side-by-side') sideBySide++;
    estimates.push(estimateAnatomicalOrientation(slice.image, slice.width, slice.height, found));
  }
  return { vote: voteOrientation(estimates), stacked, sideBySide };
}

const fixFor = (root: string, o: Orientation) => `set the orientation in the app (Slices: rotate/flip) or with \`covseg dataset orient ${root} --orientation ${formatOrientation(o)}\`; the files are not changed`;

/**
 * Warns when a PNG dataset, as the app shows it (its saved display orientation, identity when none),
 * is not in the radiological convention (anterior at the top, the patient's left on the right):
 *
 * - `looks-rotated`: the two lungs lie above each other rather than side by side;
 * - `looks-mirrored`: side by side, but a mirror image (the heart on the screen's left, or the
 *   spine at the top with the heart on the right): the patient's right and left lungs are swapped
 *   in every measurement;
 * - `looks-upside-down`: turned by 180 degrees (spine at the top, heart on the left).
 *
 * The orientation to set is the majority of the sampled slices' anatomy (spine posterior, heart on
 * the patient's left; anatomical-orientation.ts). Without a clear majority only stacked lungs are
 * reported. NIfTI and DICOM volumes carry their orientation, so they are not guessed at.
 */
export async function rotationProblem(dataset: Dataset, validIds: ReadonlySet<string>, saved: Orientation = IDENTITY_ORIENTATION): Promise<DatasetProblem | undefined> {
  if (dataset.format !== 'png-pairs' || validIds.size === 0) return undefined;
  return orientationProblem(dataset.root, await datasetAnatomy(dataset, validIds), saved);
}

/** {@link rotationProblem} from an already read {@link DatasetAnatomy}. */
export function orientationProblem(root: string, anatomy: DatasetAnatomy, saved: Orientation = IDENTITY_ORIENTATION): DatasetProblem | undefined {
  const { vote, stacked, sideBySide } = anatomy;
  const turned = saved.rotate === 90 || saved.rotate === 270;
  // Lungs as shown: a quarter turn puts stored side-by-side lungs above each other.
  const shownStacked = turned ? sideBySide : stacked;
  const shownSideBySide = turned ? stacked : sideBySide;
  const suggestion = vote.orientation;
  const decided = vote.votes.reduce((n, v) => n + v.slices, 0);
  const evidence = suggestion
    ? `; the anatomy (spine at the back, heart on the patient's left) of ${vote.votes[0]!.slices} of ${decided} decided slices (${vote.sampled} sampled) says ${formatOrientation(suggestion)}`
    : '';
  const base = { severity: 'warning' as const, file: root };
  if (!suggestion) {
    if (shownStacked < 3 || shownStacked <= 2 * shownSideBySide) return undefined;
    return {
      ...base,
      code: 'looks-rotated',
      message: `the slices look turned by 90 degrees: in ${shownStacked} of ${shownStacked + shownSideBySide} sampled slices the two lungs lie above each other instead of side by side (the anatomy gave no clear answer which way)`,
      fix: `turn them by a quarter (rot90 or rot270, and flipH if the heart then shows on the screen's left) in the app (Slices) or with \`covseg dataset orient ${root} --orientation ...\`; the files are not changed`,
    };
  }
  const wanted = canonicalOrientation(suggestion);
  const current = canonicalOrientation(saved);
  if (formatOrientation(wanted) === formatOrientation(current)) return undefined;
  // What the screen shows now: the stored edges the anatomy found, turned by the saved orientation.
  const shown = orientEdges(edgesFromDisplay(wanted), saved);
  const savedText = `as shown (${formatOrientation(current)})`;
  if (shown.top === 'R' || shown.top === 'L') {
    return {
      ...base,
      code: 'looks-rotated',
      message: `the slices look turned by 90 degrees ${savedText}: in ${shownStacked} of ${shownStacked + shownSideBySide} sampled slices the two lungs lie above each other${evidence}`,
      fix: fixFor(root, wanted),
    };
  }
  if (shown.bottom === 'A' && shown.right === 'R') {
    return {
      ...base,
      code: 'looks-upside-down',
      message: `the slices look upside down ${savedText}: the spine at the top, the heart on the screen's left; the patient's right and left lungs are swapped in the measurements${evidence}`,
      fix: fixFor(root, wanted),
    };
  }
  return {
    ...base,
    code: 'looks-mirrored',
    message: `the slices look mirrored ${savedText}: ${shown.bottom === 'A' ? "the spine at the top" : "the heart on the screen's left"}${shown.right === 'R' ? "; the patient's right and left lungs are swapped in the measurements" : ''}${evidence}`,
    fix: fixFor(root, wanted),
  };
}
