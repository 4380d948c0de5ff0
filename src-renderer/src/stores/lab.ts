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
    try {
      const base = { datasetId: datasets.datasetId, sliceId: slice.id, seed: seed.value };
      const [before, after] = await Promise.all([
        useApi().augment.preview(base),
        useApi().augment.preview(recipe.value ? { ...base, recipe: recipe.value } : { ...base, step: { type: transform.value, ...params.value } }),
      ]);
      // Sliders fire fast: only the latest request may paint.
      if (mine !== requestCounter) return;
      original.value = unwrap(before);
      augmented.value = unwrap(after);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** `30x18` is quality 30 for 18 generations; `30,20,10,5` one generation per quality. */
  function parseSchedule(text: string): number[] {
    const repeat = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
    if (repeat) return Array.from({ length: Number(repeat[2]) }, () => Number(repeat[1]));
    return text.split(',').map((q) => Number(q.trim()));
  }

  async function weather() {
    const datasets = useDatasetsStore();
    const slice = useViewerStore().current;
    if (!datasets.datasetId || !slice) return;
    error.value = null;
    try {
      series.value = unwrap(
        await useApi().augment.weather({ datasetId: datasets.datasetId, sliceId: slice.id, schedules: schedules.value.map((s) => ({ qualities: parseSchedule(s.text), jitter: s.jitter })) }),
      );
      generation.value = series.value[0]!.generations.length;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  return { transform, recipe, params, seed, original, augmented, series, generation, schedules, error, chooseTransform, refresh, weather, parseSchedule };
});
