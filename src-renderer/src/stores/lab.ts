import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AugmentPreview, WeatheringSeries } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';
import { useViewerStore } from './viewer';

/** Parameters the Lab exposes per transform, with slider ranges. */
export const LAB_PARAMETERS: Record<string, { name: string; min: number; max: number; step: number; value: number }[]> = {
  RandFlip: [],
  RandRotate90: [],
  RandRotate: [{ name: 'maxDegrees', min: 0, max: 90, step: 1, value: 20 }],
  RandElastic: [
    { name: 'alpha', min: 0, max: 30, step: 0.5, value: 8 },
    { name: 'sigma', min: 2, max: 40, step: 1, value: 10 },
  ],
  MixUp: [{ name: 'alpha', min: 0.05, max: 2, step: 0.05, value: 0.4 }],
  CutMix: [{ name: 'alpha', min: 0.1, max: 4, step: 0.1, value: 1 }],
  RandJpeg: [
    { name: 'minQuality', min: 1, max: 100, step: 1, value: 10 },
    { name: 'maxQuality', min: 1, max: 100, step: 1, value: 10 },
  ],
  DigitalWeathering: [
    { name: 'quality', min: 1, max: 100, step: 1, value: 30 },
    { name: 'generations', min: 1, max: 30, step: 1, value: 18 },
  ],
};

/** The Augmentation Lab: a slice, a transform or recipe with its parameters, a seed, and weathering series. */
export const useLabStore = defineStore('lab', () => {
  const transform = ref('RandElastic');
  const recipe = ref<string | null>(null);
  const params = ref<Record<string, number>>(Object.fromEntries(LAB_PARAMETERS.RandElastic!.map((p) => [p.name, p.value])));
  const seed = ref(1);
  const original = ref<AugmentPreview | null>(null);
  const augmented = ref<AugmentPreview | null>(null);
  /** Further random draws (seeds seed+1, seed+2) shown beside the first, so one lucky draw does not mislead. */
  const draws = ref<AugmentPreview[]>([]);
  /** True while previews are being made (the worker can take a second or more on a large slice). */
  const loading = ref(false);
  const weathering = ref(false);
  const series = ref<WeatheringSeries[]>([]);
  const generation = ref(0);
  const schedules = ref([
    { text: '30x18', jitter: 'shift' as 'none' | 'shift' | 'rescale' },
    { text: '30,20,10,5', jitter: 'none' as 'none' | 'shift' | 'rescale' },
  ]);
  const error = ref<string | null>(null);
  let requestCounter = 0;

  function chooseTransform(name: string) {
    transform.value = name;
    recipe.value = null;
    params.value = Object.fromEntries((LAB_PARAMETERS[name] ?? []).map((p) => [p.name, p.value]));
  }

  async function refresh() {
    const datasets = useDatasetsStore();
    const slice = useViewerStore().current;
    if (!datasets.datasetId || !slice) return;
    const mine = ++requestCounter;
    error.value = null;
    loading.value = true;
    try {
      const base = { datasetId: datasets.datasetId, sliceId: slice.id, seed: seed.value };
      const at = (s: number) => (recipe.value ? { ...base, seed: s, recipe: recipe.value } : { ...base, seed: s, step: { type: transform.value, ...params.value } });
      const [before, after, ...more] = await Promise.all([useApi().augment.preview(base), ...[0, 1, 2].map((k) => useApi().augment.preview(at(seed.value + k)))]);
      // Sliders fire fast: only the latest request may paint.
      if (mine !== requestCounter) return;
      original.value = unwrap(before!);
      augmented.value = unwrap(after!);
      draws.value = more.map((r) => unwrap(r));
    } catch (e) {
      if (mine === requestCounter) error.value = (e as Error).message;
    } finally {
      if (mine === requestCounter) loading.value = false;
    }
  }

  /** `30x18` is quality 30 for 18 generations; `30,20,10,5` one generation per quality. */
  function parseSchedule(text: string): number[] {
    const repeat = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
    if (repeat) return Array.from({ length: Number(repeat[2]) }, () => Number(repeat[1]));
    return text.split(',').map((q) => Number(q.trim()));
  }

  /** What is wrong with a schedule, in plain words, or null when it is fine. */
  function scheduleProblem(text: string): string | null {
    if (text.trim() === '') return 'Give JPEG qualities: 30x18 (quality 30, 18 times) or 30,20,10,5.';
    const qualities = parseSchedule(text);
    if (qualities.some((q) => !Number.isInteger(q))) return 'Use whole numbers separated by commas (30,20,10,5), or QUALITYxTIMES (30x18).';
    if (qualities.some((q) => q < 1 || q > 100)) return 'JPEG qualities go from 1 to 100.';
    if (qualities.length > 60) return `At most 60 generations (this gives ${qualities.length}).`;
    if (qualities.length === 0) return 'Give at least one generation.';
    return null;
  }

  async function weather() {
    const datasets = useDatasetsStore();
    const slice = useViewerStore().current;
    if (!datasets.datasetId || !slice) return;
    if (schedules.value.some((s) => scheduleProblem(s.text) !== null)) return;
    error.value = null;
    weathering.value = true;
    try {
      series.value = unwrap(
        await useApi().augment.weather({ datasetId: datasets.datasetId, sliceId: slice.id, schedules: schedules.value.map((s) => ({ qualities: parseSchedule(s.text), jitter: s.jitter })) }),
      );
      // The last generation of the longer schedule: each schedule then shows its own end.
      generation.value = Math.max(...series.value.map((s) => s.generations.length));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      weathering.value = false;
    }
  }

  return { transform, recipe, params, seed, original, augmented, draws, loading, weathering, series, generation, schedules, error, chooseTransform, refresh, weather, parseSchedule, scheduleProblem };
});
