import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { SlicePixels, SliceScore } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';

export type LayerName = 'truth' | 'prediction' | 'diff';
export type SortOrder = 'name' | 'lesion' | 'worst-dice';
export type LesionFilter = 'all' | 'with-lesion' | 'without-lesion';

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
  /** Window/level in HU for NIfTI sources (the lung window by default). */
  const huWindow = ref({ width: 1500, level: -600 });
  const zoom = ref(1);
  const pan = ref({ x: 0, y: 0 });
  const runId = ref<string | null>(null);
  const scores = ref<Map<string, SliceScore>>(new Map());
  const sort = ref<SortOrder>('name');
  const filter = ref<LesionFilter>('all');
  const error = ref<string | null>(null);
  const thumbnails = ref<Map<string, string>>(new Map());
  /** What predicted the overlay shown: the engine of runs:prediction, or the whole-study prediction. */
  const predictionEngine = ref<string | null>(null);
  /** A finished whole-study prediction: its slices' overlay comes from its label volume instead of the run. */
  const studyOverlay = ref<{ jobId: string; study: string; engine: string } | null>(null);
  const inStudyOverlay = (sliceId: string) => studyOverlay.value !== null && sliceId.replace(/:z\d+$/, '') === studyOverlay.value.study;

  const ordered = computed(() => {
    let list = datasets.slices.slice();
    if (filter.value === 'with-lesion') list = list.filter((s) => s.lesionFraction > 0);
    if (filter.value === 'without-lesion') list = list.filter((s) => s.lesionFraction === 0);
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
    try {
      const [got, predicted] = await Promise.all([
        useApi().slices.get({ datasetId: datasets.datasetId, sliceId: slice.id }),
        studyOverlay.value && inStudyOverlay(slice.id)
          ? useApi().studies.slicePrediction({ jobId: studyOverlay.value.jobId, datasetId: datasets.datasetId, sliceId: slice.id })
          : runId.value
            ? useApi().runs.prediction({ runId: runId.value, datasetId: datasets.datasetId, sliceId: slice.id })
            : Promise.resolve(null),
      ]);
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

  function step(delta: number) {
    if (ordered.value.length === 0) return;
    index.value = (index.value + delta + ordered.value.length) % ordered.value.length;
  }
  function select(id: string) {
    const found = ordered.value.findIndex((s) => s.id === id);
    if (found >= 0) index.value = found;
  }
  function toggle(layer: LayerName) {
    layers.value[layer].visible = !layers.value[layer].visible;
  }
  function zoomBy(factor: number) {
    zoom.value = Math.min(16, Math.max(0.25, zoom.value * factor));
  }
  function resetView() {
    zoom.value = 1;
    pan.value = { x: 0, y: 0 };
  }
  async function chooseRun(id: string | null) {
    runId.value = id;
    studyOverlay.value = null;
    scores.value = new Map();
    if (id && datasets.datasetId) {
      const list = unwrap(await useApi().runs.sliceScores({ runId: id, datasetId: datasets.datasetId }));
      scores.value = new Map(list.map((s) => [s.sliceId, s]));
    }
  }
  async function thumbnail(id: string): Promise<string | undefined> {
    const cached = thumbnails.value.get(id);
    if (cached || !datasets.datasetId) return cached;
    const url = unwrap(await useApi().slices.thumbnail({ datasetId: datasets.datasetId, sliceId: id, size: 64 }));
    thumbnails.value.set(id, url);
    return url;
  }
  watch([sort, filter], () => (index.value = 0));

  return { index, pixels, prediction, predictedClasses, layers, outline, huWindow, zoom, pan, runId, scores, sort, filter, error, ordered, current, currentScore, load, step, select, toggle, zoomBy, resetView, chooseRun, thumbnails, thumbnail, predictionEngine, studyOverlay };
});
