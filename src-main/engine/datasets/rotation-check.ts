import { lungArrangement, lungMask } from '../imaging/lung-mask';
import type { Dataset, DatasetProblem } from './types';

/** Slices looked at: spread over the dataset, enough for a majority vote, cheap on big sets. */
const SAMPLED = 24;

/**
 * Warns when a PNG dataset looks turned by 90 degrees: in most sampled slices the two lungs found
 * in the CT (dark regions inside the body, see lung-mask.ts) lie above each other rather than side
 * by side. NIfTI and DICOM volumes carry their orientation, so they are not guessed at.
 */
export async function rotationProblem(dataset: Dataset, validIds: ReadonlySet<string>): Promise<DatasetProblem | undefined> {
  if (dataset.format !== 'png-pairs') return undefined;
  const refs = dataset.slices.filter((s) => validIds.has(s.id));
  if (refs.length === 0) return undefined;
  const step = Math.max(1, Math.floor(refs.length / SAMPLED));
  let stacked = 0;
  let sideBySide = 0;
  for (let k = 0; k < refs.length && k / step < SAMPLED; k += step) {
    const slice = await dataset.load(refs[k]!);
    const arrangement = lungArrangement(lungMask(slice.image, slice.width, slice.height));
    if (arrangement === 'stacked') stacked++;
    else if (arrangement === 'side-by-side') sideBySide++;
  }
  if (stacked < 3 || stacked <= 2 * sideBySide) return undefined;
  return {
    severity: 'warning',
    code: 'looks-rotated',
    file: dataset.root,
    message: `the slices look turned by 90 degrees: in ${stacked} of ${stacked + sideBySide} sampled slices the two lungs lie above each other instead of side by side`,
    fix: `set the orientation in the app (Slices: rotate) or with \`covseg dataset orient ${dataset.root} --orientation rot90\`; the files are not changed`,
  };
}
