import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { isRunId, type RunListItem, type SliceScore } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';
import { useTrainingStore } from './training';
import { useViewerStore } from './viewer';

/** What a compare pane shows: the ground truth, or one run's prediction. */
export type PaneSource = { kind: 'truth' } | { kind: 'run'; runId: string };
export type PanePair = [PaneSource, PaneSource];

/** One pane's prediction for one slice (never drawn over another slice's pixels). */
export interface PaneView {
  sliceId: string | null;
  prediction: Uint8Array | null;
  predictedClasses: boolean;
  /** The engine's Dice/IoU of this slice for the pane's run, with the slice's split in that run. */
  score: SliceScore | null;
  engine: string | null;
  loading: boolean;
  error: string | null;
}

export const TRUTH: PaneSource = { kind: 'truth' };
export const runSource = (runId: string): PaneSource => ({ kind: 'run', runId });

/** `truth` or `run:ID`: run ids never hold `:` or `,`, so a pair reads back unambiguously. */
export function formatSource(source: PaneSource): string {
  return source.kind === 'truth' ? 'truth' : `run:${source.runId}`;
}

export function parseSource(text: string): PaneSource | null {
  if (text === 'truth') return TRUTH;
  const runId = text.startsWith('run:') ? text.slice(4) : '';
  return isRunId(runId) ? runSource(runId) : null;
}

/** The two panes as the address keeps them (`truth,run:r1`), or null when the text is not two sources. */
export function parsePair(text: string): PanePair | null {
  const parts = text.split(',').map(parseSource);
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : null;
}

export const formatPair = (pair: PanePair) => pair.map(formatSource).join(',');

/**
 * The panes compare mode opens with: the run overlaid in the single view (else the first run) against
 * a second run; with a single run, the truth against it.
 */
export function defaultPair(runIds: readonly string[], chosen: string | null): PanePair {
  const first = chosen ?? runIds[0];
  const second = runIds.find((id) => id !== first);
  if (first && second) return [runSource(first), runSource(second)];
  return first ? [TRUTH, runSource(first)] : [TRUTH, TRUTH];
}

const emptyPane = (): PaneView => ({ sliceId: null, prediction: null, predictedClasses: false, score: null, engine: null, loading: false, error: null });

/**
 * The slice browser's compare mode: two panes side by side on the current slice, each showing the truth
 * or one run's prediction. Slice, orientation, window/level, zoom and pan are the viewer store's, so
 * the panes stay in step by construction; only the sources, their predictions and the cursor live here.
 */
export const useCompareStore = defineStore('compare', () => {
  const datasets = useDatasetsStore();
  const viewer = useViewerStore();
  const training = useTrainingStore();
  const enabled = ref(false);
  const sources = ref<PanePair>([TRUTH, TRUTH]);
  /** True once sources were chosen (by the user or the address): toggling again keeps them. */
  const chosen = ref(false);
  const panes = ref<[PaneView, PaneView]>([emptyPane(), emptyPane()]);
  /** The oriented image point under the mouse in either pane, for the other pane's crosshair and both readouts. */
  const cursor = ref<{ x: number; y: number; pane: number } | null>(null);

  /** Completed runs; those trained on the open dataset first (their splits and test Dice mean something here). */
  const runs = computed<RunListItem[]>(() => {
    const done = training.runs.filter((r) => r.state === 'completed');
    return [...done.filter((r) => r.dataset === datasets.datasetId), ...done.filter((r) => r.dataset !== datasets.datasetId)];
  });
  const runOf = (source: PaneSource) => (source.kind === 'run' ? (training.runs.find((r) => r.runId === source.runId) ?? null) : null);

  function open(pair?: PanePair) {
    if (pair) {
      sources.value = pair;
      chosen.value = true;
    } else if (!chosen.value) {
      sources.value = defaultPair(
        runs.value.map((r) => r.runId),
        viewer.runId,
      );
    }
    enabled.value = true;
  }
  function close() {
    enabled.value = false;
    cursor.value = null;
  }
  const toggle = () => (enabled.value ? close() : open());
  function setSource(pane: 0 | 1, source: PaneSource) {
    const next: PanePair = [...sources.value];
    next[pane] = source;
    sources.value = next;
    chosen.value = true;
  }

  // Newest request wins, per pane: a slow answer for a slice paged past is dropped.
  const requests: [number, number] = [0, 0];
  async function loadPane(pane: 0 | 1) {
    const token = ++requests[pane];
    const slice = viewer.current;
    const datasetId = datasets.datasetId;
    const source = sources.value[pane];
    if (!enabled.value || !slice || !datasetId) {
      panes.value[pane] = emptyPane();
      return;
    }
    if (source.kind === 'truth') {
      panes.value[pane] = { ...emptyPane(), sliceId: slice.id };
      return;
    }
    panes.value[pane] = { ...panes.value[pane], loading: true, error: null };
    try {
      const got = unwrap(await useApi().runs.prediction({ runId: source.runId, datasetId, sliceId: slice.id }));
      if (token !== requests[pane]) return;
      panes.value[pane] = {
        sliceId: slice.id,
        prediction: Uint8Array.from(atob(got.mask), (c) => c.charCodeAt(0)),
        predictedClasses: got.classes === 'ggo-consolidation',
        score: got.score,
        engine: got.engine ?? null,
        loading: false,
        error: null,
      };
    } catch (e) {
      if (token === requests[pane]) panes.value[pane] = { ...emptyPane(), sliceId: slice.id, error: (e as Error).message };
    }
  }
  watch(
    [enabled, () => viewer.current?.id, () => datasets.datasetId, () => formatPair(sources.value)],
    () => {
      void loadPane(0);
      void loadPane(1);
    },
    { immediate: true },
  );

  return { enabled, sources, panes, cursor, runs, runOf, open, close, toggle, setSource };
});
