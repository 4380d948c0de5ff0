import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { SlicePixels, SliceScore } from '../../../src-shared/contract';
import { IDENTITY_ORIENTATION, rotateClockwise, type Orientation } from '../../../src-shared/orientation';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';

export type LayerName = 'truth' | 'prediction' | 'diff';
export type SortOrder = 'name' | 'lesion' | 'worst-dice';
export type LesionFilter = 'all' | 'with-lesion' | 'without-lesion';
export type SplitFilter = 'all' | 'train' | 'val' | 'test' | 'unseen';

export interface WindowLevel {
  width: number;
  level: number;
}

/** Window presets: Hounsfield units where the source has them, grey levels (0-255) otherwise. */
export const HU_PRESETS: Record<string, WindowLevel> = {
  lung: { width: 1500, level: -600 },
  mediastinum: { width: 400, level: 40 },
  'soft tissue': { width: 350, level: 50 },
  bone: { width: 1800, level: 400 },
};
export const GREY_PRESETS: Record<string, WindowLevel> = {
  'as stored': { width: 256, level: 127.5 },
  'dark detail': { width: 128, level: 64 },
  'ground-glass': { width: 160, level: 130 },
  'bright detail': { width: 96, level: 200 },
};

/** Thumbnails fetched at once; the rest wait, and those scrolled past before their turn are dropped. */
export const THUMBNAIL_CONCURRENCY = 4;

/** The slice browser: current slice, layers, view transform, run overlay, sorting and filtering. */
export const useViewerStore = defineStore('viewer', () => {
  const datasets = useDatasetsStore();
  const index = ref(0);
  const pixels = ref<SlicePixels | null>(null);
  const prediction = ref<Uint8Array | null>(null);
  /** True when the chosen run predicts class maps (ground-glass 1, consolidation 2). */
  const predictedClasses = ref(false);
  const layers = ref<Record<LayerName, { visible: boolean; opacity: number }>>({
    truth: { visible: true, opacity: 0.5 },
    prediction: { visible: true, opacity: 0.5 },
    diff: { visible: false, opacity: 0.7 },
  });
  const outline = ref(false);
  /** The computed lung mask as an outline (to check it before trusting "% of lung"). */
  const showLung = ref(false);
  /** Window/level in HU for sources with Hounsfield values (the lung window by default). */
  const huWindow = ref<WindowLevel>({ ...HU_PRESETS.lung! });
  /** Window/level in grey levels for 8-bit sources (PNG): as stored by default. */
  const greyWindow = ref<WindowLevel>({ ...GREY_PRESETS['as stored']! });
  const zoom = ref(1);
  const pan = ref({ x: 0, y: 0 });
  const orientation = ref<Orientation>({ ...IDENTITY_ORIENTATION });
  const runId = ref<string | null>(null);
  const scores = ref<Map<string, SliceScore>>(new Map());
  const sort = ref<SortOrder>('name');
  const filter = ref<LesionFilter>('all');
  const split = ref<SplitFilter>('all');
  const error = ref<string | null>(null);
  const thumbnails = ref<Map<string, string>>(new Map());
  /** What predicted the overlay shown: the engine of runs:prediction, or the whole-study prediction. */
  const predictionEngine = ref<string | null>(null);
  /** A finished whole-study prediction: its slices' overlay comes from its label volume instead of the run. */
  const studyOverlay = ref<{ jobId: string; study: string; engine: string } | null>(null);
  const inStudyOverlay = (sliceId: string) => studyOverlay.value !== null && sliceId.replace(/:z\d+$/, '') === studyOverlay.value.study;
  const showHelp = ref(false);
  /**
   * What the browser is waiting for, oldest first (scoring every slice with a run, a slice and its
   * prediction): the first prediction of a run loads its model and can take seconds, so the view
   * says so instead of waiting silently.
   */
  const waits = ref<string[]>([]);
  async function waitFor<T>(what: string, work: Promise<T>): Promise<T> {
    waits.value.push(what);
    try {
      return await work;
    } finally {
      waits.value.splice(waits.value.indexOf(what), 1);
    }
  }

  const hasHu = computed(() => Boolean(pixels.value?.hu));
  /** The window in force for the current slice, in its own units. */
  const activeWindow = computed<WindowLevel>({
    get: () => (hasHu.value ? huWindow.value : greyWindow.value),
    set: (value) => {
      if (hasHu.value) huWindow.value = value;
      else greyWindow.value = value;
    },
  });

  const splitOf = (id: string) => scores.value.get(id)?.split;
  /** A run is chosen and none of this dataset's slices is in its split: it was trained elsewhere. */
  const runFromOtherDataset = computed(() => runId.value !== null && scores.value.size > 0 && ![...scores.value.values()].some((s) => s.split));
  const splitCounts = computed(() => {
    const counts = { train: 0, val: 0, test: 0, unseen: 0 };
    for (const slice of datasets.slices) counts[splitOf(slice.id) ?? 'unseen']++;
    return counts;
  });

  const ordered = computed(() => {
    let list = datasets.slices.slice();
    if (filter.value === 'with-lesion') list = list.filter((s) => s.lesionFraction > 0);
    if (filter.value === 'without-lesion') list = list.filter((s) => s.lesionFraction === 0);
    if (runId.value && split.value !== 'all') list = list.filter((s) => (splitOf(s.id) ?? 'unseen') === split.value);
    if (sort.value === 'lesion') list.sort((a, b) => b.lesionFraction - a.lesionFraction);
    if (sort.value === 'worst-dice') {
      // Slices without a defined Dice (both masks empty) go last: nothing to fix there.
      // Three-class runs sort by the worse of the two class Dice values, so a slice whose consolidation is missed comes first.
      const dice = (id: string) => {
        const score = scores.value.get(id);
        const perClass = (score?.classDice ?? []).filter((d): d is number => d !== null);
        return perClass.length > 0 ? Math.min(...perClass) : (score?.dice ?? Infinity);
      };
      list.sort((a, b) => dice(a.id) - dice(b.id));
    }
    return list;
  });
  const current = computed(() => ordered.value[Math.min(index.value, ordered.value.length - 1)] ?? null);
  const currentScore = computed(() => (current.value ? (scores.value.get(current.value.id) ?? null) : null));

  async function load() {
    const slice = current.value;
    if (!slice || !datasets.datasetId) {
      pixels.value = null;
      return;
    }
    error.value = null;
    const source = studyOverlay.value && inStudyOverlay(slice.id) ? 'the study prediction' : runId.value;
    try {
      const [got, predicted] = await waitFor(source ? `Predicting ${slice.id} with ${source}…` : `Loading ${slice.id}…`, Promise.all([
        useApi().slices.get({ datasetId: datasets.datasetId, sliceId: slice.id }),
        studyOverlay.value && inStudyOverlay(slice.id)
          ? useApi().studies.slicePrediction({ jobId: studyOverlay.value.jobId, datasetId: datasets.datasetId, sliceId: slice.id })
          : runId.value
            ? useApi().runs.prediction({ runId: runId.value, datasetId: datasets.datasetId, sliceId: slice.id })
            : Promise.resolve(null),
      ]));
      if (current.value?.id !== slice.id) return;
      pixels.value = unwrap(got);
      const result = predicted ? unwrap(predicted) : null;
      prediction.value = result ? Uint8Array.from(atob(result.mask), (c) => c.charCodeAt(0)) : null;
      predictedClasses.value = result?.classes === 'ggo-consolidation';
      predictionEngine.value = !result ? null : inStudyOverlay(slice.id) ? `study prediction, ${studyOverlay.value!.engine}` : (result.engine ?? null);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  watch([current, runId, studyOverlay], () => void load());
  watch(current, (slice) => {
    if (!slice) pixels.value = null;
  });

  function step(delta: number) {
    if (ordered.value.length === 0) return;
    index.value = (index.value + delta + ordered.value.length) % ordered.value.length;
  }
  /** Goes to a position without wrapping (Home/End, PageUp/PageDown, the slider and the go-to box). */
  function goTo(position: number) {
    if (ordered.value.length === 0) return;
    index.value = Math.max(0, Math.min(ordered.value.length - 1, Math.round(position)));
  }
  function select(id: string) {
    const found = ordered.value.findIndex((s) => s.id === id);
    if (found >= 0) index.value = found;
  }
  function toggle(layer: LayerName) {
    layers.value[layer].visible = !layers.value[layer].visible;
  }
  function zoomBy(factor: number) {
    zoom.value = Math.min(32, Math.max(0.25, zoom.value * factor));
  }
  function resetView() {
    zoom.value = 1;
    pan.value = { x: 0, y: 0 };
  }

  async function loadOrientation() {
    orientation.value = { ...IDENTITY_ORIENTATION };
    if (!datasets.datasetId) return;
    try {
      orientation.value = unwrap(await useApi().datasets.getOrientation({ datasetId: datasets.datasetId }));
    } catch (e) {
      error.value = (e as Error).message;
    }
  }
  /** Changes the orientation and remembers it for this dataset (workspace settings, shared with the CLI). */
  async function setOrientation(next: Orientation) {
    orientation.value = next;
    resetView();
    if (!datasets.datasetId) return;
    try {
      unwrap(await useApi().datasets.setOrientation({ datasetId: datasets.datasetId, orientation: next }));
      // The dataset check's "looks rotated / mirrored" was about the orientation before this one.
      await datasets.refreshReport();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }
  /** What "from anatomy" last said, shown beside the orientation (cleared with the dataset). */
  const orientationSuggestion = ref<string | null>(null);
  const suggesting = ref(false);
  /** Sets the orientation the anatomy of sampled slices says (spine at the bottom, heart on the right), when it is clear. */
  async function orientFromAnatomy() {
    if (!datasets.datasetId || suggesting.value) return;
    suggesting.value = true;
    orientationSuggestion.value = 'reading the anatomy…';
    try {
      const s = unwrap(await useApi().datasets.suggestOrientation({ datasetId: datasets.datasetId }));
      const decided = s.votes.reduce((n, v) => n + v.slices, 0);
      if (s.orientation) {
        await setOrientation(s.orientation);
        orientationSuggestion.value = `anatomy: ${s.votes[0]!.orientation} (${s.votes[0]!.slices} of ${decided} decided slices, ${s.sampled} sampled)`;
      } else {
        const votes = s.votes.map((v) => `${v.orientation} ×${v.slices}`).join(', ');
        orientationSuggestion.value = `anatomy unclear (${votes || 'no slice decided'}; ${s.abstained} of ${s.sampled} undecided): turn until the spine is at the bottom and the heart on the right`;
      }
    } catch (e) {
      orientationSuggestion.value = null;
      error.value = (e as Error).message;
    } finally {
      suggesting.value = false;
    }
  }
  const rotate = () => setOrientation(rotateClockwise(orientation.value));
  const flip = (axis: 'flipH' | 'flipV') => setOrientation({ ...orientation.value, [axis]: !orientation.value[axis] });

  let runChoice = 0;
  async function chooseRun(id: string | null) {
    const mine = ++runChoice;
    runId.value = id;
    studyOverlay.value = null;
    scores.value = new Map();
    split.value = 'all';
    if (id && datasets.datasetId) {
      const what = `Scoring all ${datasets.slices.length} slices with ${id} (split, Dice per slice)…`;
      const list = unwrap(await waitFor(what, useApi().runs.sliceScores({ runId: id, datasetId: datasets.datasetId })));
      // Only the newest choice may fill the scores: a run chosen and quickly changed loses.
      if (mine === runChoice) scores.value = new Map(list.map((s) => [s.sliceId, s]));
    }
  }

  const exporting = ref(false);
  /** Downloads the measurements of every slice and study (truth, and the chosen run's predictions) as CSV. */
  async function exportMeasurements() {
    const datasetId = datasets.datasetId;
    if (!datasetId) return;
    exporting.value = true;
    try {
      const csv = unwrap(await useApi().datasets.measure({ datasetId, ...(runId.value ? { runId: runId.value } : {}) }));
      const name = `${datasetId.split(/[\\/]/).filter(Boolean).pop() ?? 'dataset'}-measurements${runId.value ? `-${runId.value}` : ''}.csv`;
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      exporting.value = false;
    }
  }

  // Thumbnails: a bounded queue of the rows in view. Rows scrolled past before their turn are
  // dropped, so fast scrolling costs at most THUMBNAIL_CONCURRENCY requests at a time.
  let wanted: string[] = [];
  const inFlight = new Set<string>();
  function pumpThumbnails() {
    while (inFlight.size < THUMBNAIL_CONCURRENCY && wanted.length > 0) {
      const id = wanted.shift()!;
      if (thumbnails.value.has(id) || inFlight.has(id)) continue;
      inFlight.add(id);
      void thumbnail(id)
        .catch(() => undefined)
        .finally(() => {
          inFlight.delete(id);
          pumpThumbnails();
        });
    }
  }
  /** The thumbnails of the rows in view now: replaces whatever was waiting. */
  function wantThumbnails(ids: string[]) {
    wanted = ids.filter((id) => !thumbnails.value.has(id) && !inFlight.has(id));
    pumpThumbnails();
  }
  async function thumbnail(id: string): Promise<string | undefined> {
    const cached = thumbnails.value.get(id);
    const datasetId = datasets.datasetId;
    if (cached || !datasetId) return cached;
    const url = unwrap(await useApi().slices.thumbnail({ datasetId, sliceId: id, size: 64 }));
    if (datasets.datasetId === datasetId) thumbnails.value.set(id, url);
    return url;
  }

  watch(sort, (value) => {
    // Worst Dice over training slices says little: look at the test split first when there is one.
    if (value === 'worst-dice' && split.value === 'all' && splitCounts.value.test > 0) split.value = 'test';
  });
  watch([sort, filter, split], () => (index.value = 0));
  watch(
    () => datasets.datasetId,
    () => {
      thumbnails.value = new Map();
      wanted = [];
      index.value = 0;
      orientationSuggestion.value = null;
      void loadOrientation();
      // Scores, splits and predictions are per dataset: ask again for the new one.
      if (runId.value) void chooseRun(runId.value).catch((e: Error) => (error.value = e.message));
    },
    { immediate: true },
  );

  return {
    index,
    pixels,
    prediction,
    predictedClasses,
    layers,
    outline,
    showLung,
    huWindow,
    greyWindow,
    activeWindow,
    hasHu,
    zoom,
    pan,
    orientation,
    runId,
    scores,
    sort,
    filter,
    split,
    splitCounts,
    runFromOtherDataset,
    error,
    ordered,
    current,
    currentScore,
    showHelp,
    waits,
    load,
    step,
    goTo,
    select,
    toggle,
    zoomBy,
    resetView,
    setOrientation,
    orientationSuggestion,
    suggesting,
    orientFromAnatomy,
    rotate,
    flip,
    chooseRun,
    thumbnails,
    thumbnail,
    wantThumbnails,
    exporting,
    exportMeasurements,
    predictionEngine,
    studyOverlay,
  };
});
