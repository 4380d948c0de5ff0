import { createHash } from 'node:crypto';
import { mapWithLimit } from '../concurrency/map-with-limit';
import type { Dataset, DatasetProblem, SliceRef } from './types';

/** What one pass over a slice's pixels learns: enough for checks, statistics and splits. */
export interface SliceSummary {
  id: string;
  /** Primary file of the slice (frame or volume), for messages. */
  file: string;
  /** False when the slice could not be decoded or has a fatal problem. */
  valid: boolean;
  width: number;
  height: number;
  /** SHA-256 of the decoded frame pixels and size: equal hashes are duplicate images. */
  imageHash: string;
  lesionPixels: number;
  groundGlassPixels: number;
  consolidationPixels: number;
  hasLabels: boolean;
  /** Study id from the source (DICOM StudyInstanceUID), when it has one: splits keep a study together. */
  study?: string;
}

export interface DatasetScan {
  summaries: SliceSummary[];
  problems: DatasetProblem[];
  /** Hash of every valid slice's id, pixels, mask and class labels: identifies the data a run trained on. */
  contentHash: string;
}

function sourceFile(ref: SliceRef): string {
  return ref.source.kind === 'png' ? ref.source.frame : ref.source.image;
}

/** Decodes every slice once (4 at a time) and collects per-slice summaries and problems. */
export async function scanDataset(
  dataset: Dataset,
  onProgress?: (done: number, total: number) => void,
): Promise<DatasetScan> {
  const problems: DatasetProblem[] = [...dataset.listingProblems];
  let done = 0;
  const perSlice = await mapWithLimit(dataset.slices, 4, async (ref) => {
    const { slice, problems: found } = await dataset.inspect(ref);
    done++;
    onProgress?.(done, dataset.slices.length);
    const fatal = found.some((p) => p.severity === 'error' && p.code !== 'bad-label-values');
    const summary: SliceSummary = {
      id: ref.id,
      file: sourceFile(ref),
      valid: Boolean(slice) && !fatal,
      width: slice?.width ?? 0,
      height: slice?.height ?? 0,
      imageHash: '',
      lesionPixels: 0,
      groundGlassPixels: 0,
      consolidationPixels: 0,
      hasLabels: Boolean(slice?.labels),
    };
    if (ref.study) summary.study = ref.study;
    let maskHash = '';
    if (slice) {
      // Class labels are part of what a run learns from: relabelling ground-glass as consolidation
      // must change the hash. Slices without labels hash as before, so older runs still resume.
      summary.imageHash = createHash('sha256').update(`${slice.width}x${slice.height}`).update(slice.image).digest('hex');
      maskHash = createHash('sha256').update(slice.mask).digest('hex');
      if (slice.labels) maskHash += `\0${createHash('sha256').update(slice.labels).digest('hex')}`;
      for (let i = 0; i < slice.mask.length; i++) summary.lesionPixels += slice.mask[i]!;
      if (slice.labels) {
        for (let i = 0; i < slice.labels.length; i++) {
          const v = slice.labels[i]!;
          if (v === 1) summary.groundGlassPixels++;
          else if (v === 2) summary.consolidationPixels++;
        }
      }
    }
    return { summary, found, maskHash };
  });
  const content = createHash('sha256');
  for (const { summary, found, maskHash } of perSlice) {
    problems.push(...found);
    if (summary.valid) content.update(`${summary.id}\0${summary.imageHash}\0${maskHash}\n`);
  }
  return { summaries: perSlice.map((s) => s.summary), problems, contentHash: content.digest('hex') };
}
