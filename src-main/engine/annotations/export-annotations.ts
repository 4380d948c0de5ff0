import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AnnotationExportResult, AnnotationStatus } from '../../../src-shared/contract/annotations';
import { openDataset } from '../datasets/open-dataset';
import type { Dataset } from '../datasets/types';
import { CovsegError } from '../errors';
import { jsonText, writeFileAtomic } from '../files/atomic-write';
import { guardEmptyFolder } from '../files/output-guard';
import { encodeGrayPng } from '../imaging/png-io';
import { sha256, type AnnotationStore } from './annotation-store';
import { writeEditedLabelVolume } from './nifti-label-volume';

/** The manifest an export writes beside frames/, masks/, labels/; `covseg train` records its version. */
export const EXPORT_MANIFEST = 'annotations-export.json';

export interface ExportManifest {
  /** Content hash of the exported slices (ids, frames, labels): the dataset version. */
  version: string;
  source: string;
  exportedAt: string;
  statuses: AnnotationStatus[];
  slices: { sliceId: string; file: string; version: number; status: AnnotationStatus; sha256: string; author: string }[];
  /** NIfTI sources: label volumes on the source grid (`label-volumes/NAME`). */
  volumes: string[];
}

export interface ExportOptions {
  /** Which slices to export (default: corrected and reviewed). */
  statuses?: AnnotationStatus[];
  /** Write into a non-empty --out (files of the same name are replaced). */
  force?: boolean;
  /** An already opened dataset of the store's root (default: opened here). */
  dataset?: Dataset;
}

/** `vol:z012` -> `vol_z012`, as prediction files name NIfTI slices. */
const fileStem = (sliceId: string) => sliceId.replace(/[:/\\]/g, '_');

/**
 * Exports the edited slices of an annotation store in the Kaggle layout `covseg train` reads:
 * `frames/NAME.png` (the slice's 8-bit image), `masks/NAME.png` (0/255), `labels/NAME.png` (0/1/2),
 * plus, for NIfTI sources, the edited label volumes on the source grid (`label-volumes/`), and a
 * manifest whose `version` identifies this corrected dataset. The source dataset is only read.
 */
export async function exportAnnotations(store: AnnotationStore, out: string, options: ExportOptions = {}): Promise<AnnotationExportResult & { manifest: ExportManifest }> {
  const statuses = options.statuses ?? ['corrected', 'reviewed'];
  const dataset = options.dataset ?? (await openDataset(store.root));
  const refs = new Map(dataset.slices.map((ref) => [ref.id, ref]));
  const picked: { sliceId: string; entry: Awaited<ReturnType<AnnotationStore['current']>> & object }[] = [];
  for (const sliceId of await store.slicesWithVersions()) {
    const current = await store.current(sliceId);
    if (current && statuses.includes(current.entry.status)) picked.push({ sliceId, entry: current });
  }
  if (picked.length === 0) {
    throw new CovsegError('not-found', `no slice of ${store.root} has status ${statuses.join(' or ')}`, { file: store.dir, fix: 'correct or review slices in the Annotate view first (or pass --status predicted)' });
  }
  const missing = picked.filter((p) => !refs.has(p.sliceId));
  if (missing.length > 0) {
    throw new CovsegError('not-found', `${missing.length} annotated slice(s) are no longer in the dataset, e.g. ${missing[0]!.sliceId}`, { file: store.root, fix: 'restore the dataset files, or export with the slices that remain' });
  }
  // Validate everything before creating anything.
  await guardEmptyFolder(out, { flag: '--out', inputs: [store.root], force: options.force ?? false }, 'corrected');

  const manifest: ExportManifest = { version: '', source: store.root, exportedAt: new Date().toISOString(), statuses, slices: [], volumes: [] };
  const hashes: string[] = [];
  const volumes = new Map<string, Map<number, Uint8Array>>();
  for (const { sliceId, entry } of picked.sort((a, b) => a.sliceId.localeCompare(b.sliceId))) {
    const ref = refs.get(sliceId)!;
    const slice = await dataset.load(ref);
    const { label } = entry;
    if (label.width !== slice.width || label.height !== slice.height) {
      throw new CovsegError('size-mismatch', `the label of ${sliceId} is ${label.width}x${label.height} but the slice is ${slice.width}x${slice.height}`, { file: store.dir, fix: 'revert the slice to a version of the right size' });
    }
    const name = `${fileStem(sliceId)}.png`;
    const image = { width: slice.width, height: slice.height };
    await writeFileAtomic(join(out, 'frames', name), await encodeGrayPng({ ...image, data: slice.image }));
    await writeFileAtomic(join(out, 'masks', name), await encodeGrayPng({ ...image, data: label.labels.map((v) => (v > 0 ? 255 : 0)) }));
    await writeFileAtomic(join(out, 'labels', name), await encodeGrayPng({ ...image, data: label.labels }));
    hashes.push(`${sliceId}\0${sha256(slice.image)}\0${entry.entry.sha256}`);
    manifest.slices.push({ sliceId, file: name, version: entry.entry.version, status: entry.entry.status, sha256: entry.entry.sha256, author: entry.entry.author });
    if (ref.source.kind === 'nifti') {
      const edits = volumes.get(ref.source.label) ?? new Map<number, Uint8Array>();
      edits.set(ref.source.z, label.labels);
      volumes.set(ref.source.label, edits);
    }
  }
  for (const [labelFile, edits] of volumes) {
    const target = join(out, 'label-volumes', basename(labelFile));
    await writeEditedLabelVolume(labelFile, target, edits);
    manifest.volumes.push(join('label-volumes', basename(labelFile)));
  }
  manifest.version = sha256(hashes.join('\n')).slice(0, 16);
  // The manifest goes last: a folder with it is a complete export.
  await writeFileAtomic(join(out, EXPORT_MANIFEST), jsonText(manifest));
  return { out, slices: manifest.slices.length, version: manifest.version, volumes: manifest.volumes, manifest };
}

/** The manifest of an exported folder, when `root` is one (runs record its version). */
export async function readExportManifest(root: string): Promise<ExportManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(root, EXPORT_MANIFEST), 'utf8')) as ExportManifest;
  } catch {
    return undefined;
  }
}

/** True when `dir` has no entries (or does not exist). */
export async function isEmptyFolder(dir: string): Promise<boolean> {
  return (await readdir(dir).catch(() => [] as string[])).length === 0;
}
