import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  AnnotationExportResult,
  AnnotationLabel,
  AnnotationPrediction,
  AnnotationQueueItem,
  AnnotationSliceState,
  AnnotationStatus,
} from '../../src-shared/contract';
import type { LungMaskLabel, LungMaskState, saveAnnotationRequest, saveLungRequest } from '../../src-shared/contract/annotations';
import { LungCorrections } from '../engine/annotations/lung-corrections';
import { AnnotationStore } from '../engine/annotations/annotation-store';
import { exportAnnotations } from '../engine/annotations/export-annotations';
import { CovsegError } from '../engine/errors';
import type { DatasetService } from './dataset-service';
import type { FileAccess } from './file-access';
import type { RunsService } from './runs-service';

type SaveRequest = ReturnType<typeof saveAnnotationRequest.parse>;
type SaveLungRequest = ReturnType<typeof saveLungRequest.parse>;

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Lesion probability (1 - background, or the one channel) and the lesion class each pixel would take. */
export function lesionView(probabilities: Float32Array, channels: number): { probability: Float32Array; lesionClass: Uint8Array } {
  const pixels = probabilities.length / channels;
  const probability = new Float32Array(pixels);
  const lesionClass = new Uint8Array(pixels).fill(1);
  for (let i = 0; i < pixels; i++) {
    if (channels === 1) probability[i] = probabilities[i]!;
    else {
      probability[i] = 1 - probabilities[i * channels]!;
      lesionClass[i] = probabilities[i * channels + 2]! > probabilities[i * channels + 1]! ? 2 : 1;
    }
  }
  return { probability, lesionClass };
}

/** Dice of two lesion maps (any value > 0), null when both are empty. */
export function lesionDice(a: Uint8Array, b: Uint8Array): number | null {
  let both = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! > 0 ? 1 : 0;
    const y = b[i]! > 0 ? 1 : 0;
    both += x & y;
    sum += x + y;
  }
  return sum === 0 ? null : (2 * both) / sum;
}

/**
 * The annotation store of each open dataset, in the workspace's `annotations/` folder (never in the
 * dataset): labels per slice with their history, predictions to start from, the review queue, export.
 */
export class AnnotationService {
  private readonly stores = new Map<string, Promise<AnnotationStore>>();
  private readonly lungStores = new Map<string, Promise<LungCorrections>>();

  constructor(
    private readonly workspace: string,
    private readonly datasets: DatasetService,
    private readonly runs: RunsService,
    private readonly access: FileAccess,
  ) {}

  private store(datasetId: string): Promise<AnnotationStore> {
    const root = this.datasets.entry(datasetId).dataset.root;
    return openOnce(this.stores, root, () => AnnotationStore.open(this.workspace, root));
  }

  /** The lung corrections of a dataset root (the store opens on first use). */
  lungCorrections(root: string): Promise<LungCorrections> {
    return openOnce(this.lungStores, root, () => LungCorrections.open(this.workspace, root));
  }

  /** The slice's lung mask as measurements use it (correction, else computed), the computed one and the history. */
  async lung(datasetId: string, sliceId: string): Promise<LungMaskLabel> {
    const root = this.datasets.entry(datasetId).dataset.root;
    const [state, computed] = await Promise.all([(await this.lungCorrections(root)).state(sliceId), this.datasets.computedLung(datasetId, sliceId)]);
    const usable = state.lung && state.lung.width === computed.width && state.lung.height === computed.height ? state.lung : undefined;
    const last = state.history.at(-1);
    return {
      sliceId,
      source: usable ? 'corrected' : 'computed',
      version: state.version,
      ...(last ? { savedAt: last.savedAt } : {}),
      width: computed.width,
      height: computed.height,
      lung: toBase64(usable?.labels ?? computed.labels),
      computed: toBase64(computed.labels),
      history: state.history.map(({ sliceId: _s, width: _w, height: _h, ...version }) => version),
    };
  }

  async saveLung(request: SaveLungRequest): Promise<LungMaskState> {
    const item = this.datasets.list(request.datasetId).find((s) => s.id === request.sliceId);
    if (!item) throw new CovsegError('not-found', `slice ${request.sliceId} cannot be read`, { file: request.datasetId, fix: 'check the dataset report' });
    const lung = new Uint8Array(Buffer.from(request.lung, 'base64'));
    if (lung.length !== item.width * item.height) {
      throw new CovsegError('size-mismatch', `lung mask of ${request.sliceId} has ${lung.length} pixels, the slice ${item.width}x${item.height}`, { fix: 'reload the slice' });
    }
    const store = await this.lungCorrections(this.datasets.entry(request.datasetId).dataset.root);
    const entry = await store.save(request.sliceId, { width: item.width, height: item.height, labels: lung }, request.baseVersion, request.tool, request.author);
    return { sliceId: request.sliceId, source: 'corrected', version: entry.version, savedAt: entry.savedAt };
  }

  async resetLung(datasetId: string, sliceId: string, baseVersion: number, tool?: string): Promise<LungMaskState> {
    const computed = await this.datasets.computedLung(datasetId, sliceId);
    const store = await this.lungCorrections(this.datasets.entry(datasetId).dataset.root);
    const entry = await store.reset(sliceId, computed, baseVersion, undefined, tool);
    return { sliceId, source: 'computed', version: entry.version, savedAt: entry.savedAt };
  }

  async status(datasetId: string): Promise<AnnotationSliceState[]> {
    const store = await this.store(datasetId);
    return Promise.all(this.datasets.list(datasetId).map((item) => store.state(item.id)));
  }

  async get(datasetId: string, sliceId: string): Promise<AnnotationLabel> {
    const store = await this.store(datasetId);
    const current = await store.current(sliceId);
    if (current) {
      const { entry, label, history } = current;
      return {
        sliceId,
        status: entry.status,
        version: entry.version,
        savedAt: entry.savedAt,
        width: label.width,
        height: label.height,
        labels: toBase64(label.labels),
        history: history.map(({ sliceId: _s, width: _w, height: _h, ...version }) => version),
      };
    }
    // Nothing saved yet: start from the dataset's own class map, or its lesion mask as ground-glass.
    const slice = await this.datasets.entry(datasetId).dataset.load(this.datasets.ref(datasetId, sliceId));
    const labels = slice.labels ?? slice.mask.map((v) => (v > 0 ? 1 : 0));
    return { sliceId, status: 'unlabelled', version: 0, width: slice.width, height: slice.height, labels: toBase64(labels), history: [] };
  }

  async save(request: SaveRequest): Promise<AnnotationSliceState> {
    this.datasets.ref(request.datasetId, request.sliceId);
    const item = this.datasets.list(request.datasetId).find((s) => s.id === request.sliceId);
    if (!item) throw new CovsegError('not-found', `slice ${request.sliceId} cannot be read`, { file: request.datasetId, fix: 'check the dataset report' });
    const { width, height } = item;
    const labels = new Uint8Array(Buffer.from(request.labels, 'base64'));
    if (labels.length !== width * height) {
      throw new CovsegError('size-mismatch', `label of ${request.sliceId} has ${labels.length} pixels, the slice ${width}x${height}`, { fix: 'reload the slice' });
    }
    const store = await this.store(request.datasetId);
    const entry = await store.save(request.sliceId, { width, height, labels }, request.baseVersion, {
      tool: request.tool,
      source: request.source,
      status: request.status,
      ...(request.runId ? { runId: request.runId } : {}),
      ...(request.author ? { author: request.author } : {}),
    });
    return { sliceId: request.sliceId, status: entry.status, version: entry.version, savedAt: entry.savedAt };
  }

  async revert(datasetId: string, sliceId: string, version: number, baseVersion: number): Promise<AnnotationSliceState> {
    const entry = await (await this.store(datasetId)).revert(sliceId, version, baseVersion);
    return { sliceId, status: entry.status, version: entry.version, savedAt: entry.savedAt };
  }

  async prediction(runId: string, datasetId: string, sliceId: string): Promise<AnnotationPrediction> {
    const predicted = await this.runs.probabilities(runId, datasetId, sliceId);
    const { probability, lesionClass } = lesionView(predicted.probabilities, predicted.channels);
    return {
      runId,
      width: predicted.width,
      height: predicted.height,
      probability: toBase64(Uint8Array.from(probability, (p) => Math.round(Math.min(1, Math.max(0, p)) * 255))),
      lesionClass: toBase64(lesionClass),
      threshold: predicted.threshold,
      classes: predicted.channels === 1 ? 'lesion' : 'ggo-consolidation',
    };
  }

  /**
   * Slices not yet reviewed, with the model's uncertainty (mean of 1 - |2p - 1| over the slice) and
   * its agreement (Dice) with the current label; most uncertain, or worst agreeing, first.
   */
  async queue(runId: string, datasetId: string, order: 'uncertainty' | 'agreement'): Promise<AnnotationQueueItem[]> {
    const store = await this.store(datasetId);
    const items: AnnotationQueueItem[] = [];
    for (const slice of this.datasets.list(datasetId)) {
      const state = await store.state(slice.id);
      if (state.status === 'reviewed') continue;
      const predicted = await this.runs.probabilities(runId, datasetId, slice.id);
      const { probability } = lesionView(predicted.probabilities, predicted.channels);
      let doubt = 0;
      for (const p of probability) doubt += 1 - Math.abs(2 * p - 1);
      const current = new Uint8Array(Buffer.from((await this.get(datasetId, slice.id)).labels, 'base64'));
      items.push({ sliceId: slice.id, status: state.status, uncertainty: doubt / probability.length, agreement: lesionDice(predicted.classMap, current) });
    }
    if (order === 'uncertainty') items.sort((a, b) => b.uncertainty - a.uncertainty);
    else items.sort((a, b) => (a.agreement ?? 2) - (b.agreement ?? 2));
    return items;
  }

  /**
   * Exports corrected and reviewed slices to `annotations/STORE/exports/VERSION` (the same content
   * exports to the same folder once) and lets the app open it as a dataset to train on.
   */
  async export(datasetId: string, statuses?: AnnotationStatus[]): Promise<AnnotationExportResult> {
    const store = await this.store(datasetId);
    const pending = join(store.dir, 'exports', `.pending-${randomBytes(6).toString('hex')}`);
    try {
      const result = await exportAnnotations(store, pending, { dataset: this.datasets.entry(datasetId).dataset, ...(statuses ? { statuses } : {}) });
      const final = join(store.dir, 'exports', result.version);
      if (await stat(final).catch(() => undefined)) await rm(pending, { recursive: true, force: true });
      else await rename(pending, final);
      this.access.grant(final);
      return { out: final, slices: result.slices, version: result.version, volumes: result.volumes };
    } catch (error) {
      await rm(pending, { recursive: true, force: true });
      throw error;
    }
  }
}

/** The store opened for `key`, opened on first use; a failed open is forgotten so that the next call tries again. */
function openOnce<T>(opened: Map<string, Promise<T>>, key: string, open: () => Promise<T>): Promise<T> {
  let store = opened.get(key);
  if (!store) {
    store = open();
    store.catch(() => opened.delete(key));
    opened.set(key, store);
  }
  return store;
}
