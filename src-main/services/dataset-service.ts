import sharp from 'sharp';
import { IDENTITY_ORIENTATION, type Orientation } from '../../src-shared/orientation';
import type { DatasetOpenProgress, DatasetReportView, OpenedDataset, SliceListItem, SlicePixels } from '../../src-shared/contract';
import { inspectDataset } from '../engine/datasets/check-dataset';
import { orientationProblem, type DatasetAnatomy } from '../engine/datasets/rotation-check';
import type { SliceSummary } from '../engine/datasets/scan-dataset';
import type { Dataset, SliceData, SliceRef } from '../engine/datasets/types';
import { CovsegError } from '../engine/errors';
import { lungMask } from '../engine/imaging/lung-mask';
import { resizeGray } from '../engine/imaging/resize';
import type { FileAccess } from './file-access';

interface OpenEntry {
  dataset: Dataset;
  report: DatasetReportView;
  summaries: SliceSummary[];
  /** Content hash of the scan: a run trained on the same data recorded the same one. */
  contentHash: string;
  /** PNG datasets: what the anatomy of the sampled slices said when the dataset was opened. */
  anatomy?: DatasetAnatomy;
}

/** The files one slice is read from. */
function sourceFiles(ref: SliceRef): string[] {
  const source = ref.source;
  if (source.kind === 'png') return source.labels ? [source.frame, source.mask, source.labels] : [source.frame, source.mask];
  return [source.image, source.label];
}

/** The dataset-check warnings that depend on how the slices are shown. */
const ORIENTATION_CODES = new Set(['looks-rotated', 'looks-mirrored', 'looks-upside-down']);

/** Open progress is pushed at most this often (plus the last). */
const PROGRESS_INTERVAL_MS = 125;

/** Computed lung masks kept per open dataset (a 512 x 512 slice's is 256 KB). */
const COMPUTED_LUNGS_KEPT = 16;

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Datasets the app has open, their slices, pixels and thumbnails. */
export class DatasetService {
  private readonly open = new Map<string, OpenEntry>();
  private readonly thumbnails = new Map<string, string>();
  /**
   * The computed lungs of the slices viewed last, per open dataset: Annotate asks for a slice
   * (slices:get) and its lung (annotations:lung) at once, and paging back comes to the same slices;
   * the mask takes a fifth of a second on a real slice.
   */
  private readonly computedLungs = new WeakMap<OpenEntry, Map<string, Uint8Array>>();

  constructor(
    private readonly access: FileAccess,
    /** Scan progress of a dataset being opened (2,729 slices take seconds). */
    private readonly onProgress: (progress: DatasetOpenProgress) => void = () => undefined,
    /** The display orientation saved for a dataset: PNG slices are checked as they are shown. */
    private readonly savedOrientation: (root: string) => Promise<Orientation> = async () => IDENTITY_ORIENTATION,
    /** A person's lung correction saved for a slice (the workspace's lung-mask store), else undefined. */
    private readonly correctedLung: (root: string, sliceId: string) => Promise<Uint8Array | undefined> = async () => undefined,
  ) {}

  async openFolder(path: string): Promise<OpenedDataset> {
    const root = await this.access.check(path);
    await this.access.confineTree(root);
    let last = 0;
    const { dataset: opened, scan, report, anatomy } = await inspectDataset(root, {
      orientation: await this.savedOrientation(root),
      onProgress: (done, total) => {
        const now = Date.now();
        if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        this.onProgress({ path: root, done, total });
      },
    });
    // Every later read re-checks its files: a link swapped after opening still cannot lead outside.
    const dataset: Dataset = Object.create(opened);
    dataset.load = async (ref, options) => {
      await this.access.checkFiles(sourceFiles(ref));
      return opened.load(ref, options);
    };
    dataset.inspect = async (ref) => {
      await this.access.checkFiles(sourceFiles(ref));
      return opened.inspect(ref);
    };
    const view: DatasetReportView = {
      root: report.root,
      format: report.format,
      slices: report.slices,
      validSlices: report.validSlices,
      sizes: report.sizes,
      lesionFraction: report.lesionFraction,
      emptyMasks: report.emptyMasks,
      ...(report.classes ? { classes: report.classes } : {}),
      duplicates: report.duplicates,
      problems: report.problems,
      errors: report.errors,
      warnings: report.warnings,
    };
    this.open.set(root, { dataset, report: view, summaries: scan.summaries, contentHash: scan.contentHash, ...(anatomy ? { anatomy } : {}) });
    return { id: root, report: view };
  }

  entry(datasetId: string): OpenEntry {
    const found = this.open.get(datasetId);
    if (!found) throw new CovsegError('not-found', 'dataset is not open', { file: datasetId, fix: 'open it first (datasets:open)' });
    return found;
  }

  /**
   * The dataset's report with its orientation warning read again for the orientation saved now
   * (from the anatomy sampled when it was opened: no slice is read again).
   */
  async report(datasetId: string): Promise<DatasetReportView> {
    const entry = this.entry(datasetId);
    if (!entry.anatomy) return entry.report;
    const root = entry.dataset.root;
    const problem = orientationProblem(root, entry.anatomy, await this.savedOrientation(root));
    const problems = [...entry.report.problems.filter((p) => !ORIENTATION_CODES.has(p.code)), ...(problem ? [problem] : [])];
    entry.report = {
      ...entry.report,
      problems,
      errors: problems.filter((p) => p.severity === 'error').length,
      warnings: problems.filter((p) => p.severity === 'warning').length,
    };
    return entry.report;
  }

  list(datasetId: string): SliceListItem[] {
    return this.entry(datasetId)
      .summaries.filter((s) => s.valid)
      .map((s) => ({ id: s.id, width: s.width, height: s.height, lesionFraction: s.lesionPixels / (s.width * s.height), hasLabels: s.hasLabels }));
  }

  ref(datasetId: string, sliceId: string) {
    const ref = this.entry(datasetId).dataset.slices.find((s) => s.id === sliceId);
    if (!ref) throw new CovsegError('not-found', `slice ${sliceId} is not in the dataset`, { file: datasetId });
    return ref;
  }

  async pixels(datasetId: string, sliceId: string): Promise<SlicePixels> {
    const slice = await this.entry(datasetId).dataset.load(this.ref(datasetId, sliceId));
    const out: SlicePixels = { id: slice.id, width: slice.width, height: slice.height, image: toBase64(slice.image), mask: toBase64(slice.mask) };
    if (slice.labels) out.labels = toBase64(slice.labels);
    if (slice.hu) out.hu = toBase64(new Uint8Array(slice.hu.buffer, slice.hu.byteOffset, slice.hu.byteLength));
    if (slice.edges) out.edges = slice.edges;
    if (slice.spacing) out.spacing = slice.spacing;
    const corrected = await this.correctedLung(this.entry(datasetId).dataset.root, sliceId);
    const usable = corrected && corrected.length === slice.width * slice.height ? corrected : undefined;
    out.lung = toBase64(usable ?? this.computedLungOf(this.entry(datasetId), slice));
    out.lungSource = usable ? 'corrected' : 'computed';
    return out;
  }

  /** The lung mask computed from the slice's CT (engine/imaging/lung-mask.ts), whatever correction exists. */
  async computedLung(datasetId: string, sliceId: string): Promise<{ width: number; height: number; labels: Uint8Array }> {
    const entry = this.entry(datasetId);
    const slice = await entry.dataset.load(this.ref(datasetId, sliceId));
    return { width: slice.width, height: slice.height, labels: this.computedLungOf(entry, slice) };
  }

  private computedLungOf(entry: OpenEntry, slice: SliceData): Uint8Array {
    let bySlice = this.computedLungs.get(entry);
    if (!bySlice) this.computedLungs.set(entry, (bySlice = new Map()));
    let labels = bySlice.get(slice.id);
    if (!labels) {
      labels = lungMask(slice.image, slice.width, slice.height, { spacing: slice.spacing ?? null }).labels;
      if (bySlice.size >= COMPUTED_LUNGS_KEPT) bySlice.delete(bySlice.keys().next().value!);
      bySlice.set(slice.id, labels);
    }
    return labels;
  }

  async thumbnail(datasetId: string, sliceId: string, size: number): Promise<string> {
    const key = `${datasetId}\0${sliceId}\0${size}`;
    const cached = this.thumbnails.get(key);
    if (cached) return cached;
    const slice = await this.entry(datasetId).dataset.load(this.ref(datasetId, sliceId));
    const scale = size / Math.max(slice.width, slice.height);
    const small = await resizeGray({ width: slice.width, height: slice.height, data: slice.image }, Math.max(1, Math.round(slice.width * scale)), Math.max(1, Math.round(slice.height * scale)), 'bilinear');
    const png = await sharp(Buffer.from(small.data), { raw: { width: small.width, height: small.height, channels: 1 } }).png().toBuffer();
    const url = `data:image/png;base64,${png.toString('base64')}`;
    if (this.thumbnails.size > 5000) this.thumbnails.clear();
    this.thumbnails.set(key, url);
    return url;
  }
}
