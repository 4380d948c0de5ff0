import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DecisionAction, GeneratedPair, PairDecision, PairsQualityReport, SlicePixels } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

export type GallerySort = 'id' | 'ssim' | 'dice' | 'contrast' | 'l1';
export type DecisionFilter = 'all' | PairDecision;
export type GalleryGrouping = 'none' | 'generation' | 'gan';

/** Sort keys: most suspicious first (high SSIM = near-copy; low Dice and contrast = mask not in the image). */
const SORTS: Record<GallerySort, (a: GeneratedPair, b: GeneratedPair) => number> = {
  id: (a, b) => a.id.localeCompare(b.id),
  ssim: (a, b) => (b.quality?.ssimToNearest ?? -1) - (a.quality?.ssimToNearest ?? -1),
  l1: (a, b) => (a.quality?.l1ToNearest ?? 2) - (b.quality?.l1ToNearest ?? 2),
  dice: (a, b) => (a.quality?.segmentabilityDice ?? 2) - (b.quality?.segmentabilityDice ?? 2),
  contrast: (a, b) => (a.quality?.lesionContrast ?? 1e9) - (b.quality?.lesionContrast ?? 1e9),
};

/** The open generated-pairs folder: pairs, quality report, what is shown, selection and decisions. */
export const useGalleryStore = defineStore('gallery', () => {
  const pairsId = ref<string | null>(null);
  const path = ref<string>('');
  const pairs = ref<GeneratedPair[]>([]);
  const report = ref<PairsQualityReport | null>(null);
  const selectedId = ref<string | null>(null);
  const sort = ref<GallerySort>('id');
  const decisionFilter = ref<DecisionFilter>('all');
  const generationFilter = ref<number | 'all'>('all');
  const ganFilter = ref<string | 'all'>('all');
  const nearCopyOnly = ref(false);
  const grouping = ref<GalleryGrouping>('generation');
  /** Pairs whose nearest real image is shown beside them. */
  const nearestShown = ref<Set<string>>(new Set());
  const columns = ref(4);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const pixelCache = new Map<string, Promise<SlicePixels>>();

  const visible = computed(() =>
    pairs.value
      .filter((p) => decisionFilter.value === 'all' || p.decision.state === decisionFilter.value)
      .filter((p) => generationFilter.value === 'all' || p.generator.generation === generationFilter.value)
      .filter((p) => ganFilter.value === 'all' || p.generator.ganDir === ganFilter.value)
      .filter((p) => !nearCopyOnly.value || p.quality?.nearCopy)
      .sort(SORTS[sort.value]),
  );

  /** Visible pairs in groups (generation 1 beside generation 2, or one group per GAN). */
  const groups = computed(() => {
    const keyOf = (p: GeneratedPair) => (grouping.value === 'generation' ? `generation ${p.generator.generation}` : grouping.value === 'gan' ? `${p.generator.ganDir} (${p.generator.kind}, generation ${p.generator.generation})` : 'all pairs');
    const map = new Map<string, GeneratedPair[]>();
    for (const pair of visible.value) map.set(keyOf(pair), [...(map.get(keyOf(pair)) ?? []), pair]);
    return [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([title, members]) => ({ title, pairs: members }));
  });

  /** Keyboard order: group by group, as shown. */
  const order = computed(() => groups.value.flatMap((g) => g.pairs.map((p) => p.id)));
  const counts = computed(() => ({
    accepted: pairs.value.filter((p) => p.decision.state === 'accepted').length,
    rejected: pairs.value.filter((p) => p.decision.state === 'rejected').length,
    pending: pairs.value.filter((p) => p.decision.state === 'pending').length,
  }));
  const generations = computed(() => [...new Set(pairs.value.map((p) => p.generator.generation))].sort((a, b) => a - b));
  const ganDirs = computed(() => [...new Set(pairs.value.map((p) => p.generator.ganDir))].sort());
  const selected = computed(() => pairs.value.find((p) => p.id === selectedId.value) ?? null);

  async function open(folder: string) {
    busy.value = true;
    error.value = null;
    try {
      const opened = unwrap(await useApi().gallery.open({ path: folder }));
      pairsId.value = opened.pairsId;
      path.value = opened.path;
      pairs.value = opened.pairs;
      report.value = opened.report;
      pixelCache.clear();
      nearestShown.value = new Set();
      selectedId.value = order.value[0] ?? null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  }

  /** Pixels of a pair (or its nearest real image), cached; `size` downsamples for the grid. */
  function pixels(pairId: string, kind: 'pair' | 'nearest', size: number): Promise<SlicePixels> {
    const key = `${kind}\0${pairId}\0${size}`;
    let cached = pixelCache.get(key);
    if (!cached) {
      const request = { pairsId: pairsId.value!, pairId, size };
      cached = (kind === 'pair' ? useApi().gallery.pair(request) : useApi().gallery.nearest(request)).then(unwrap);
      cached.catch(() => pixelCache.delete(key));
      pixelCache.set(key, cached);
    }
    return cached;
  }

  /** Saves a decision (on disk before the promise resolves) and shows the records the back end wrote. */
  async function decide(action: DecisionAction, ids: string[] = selectedId.value ? [selectedId.value] : []) {
    if (!pairsId.value || ids.length === 0) return;
    error.value = null;
    try {
      const changed = unwrap(await useApi().gallery.decide({ pairsId: pairsId.value, ids, action }));
      const byId = new Map(changed.map((p) => [p.id, p]));
      pairs.value = pairs.value.map((p) => byId.get(p.id) ?? p);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function select(id: string) {
    selectedId.value = id;
  }

  /** Moves the selection by `delta` places in the shown order (arrow keys: ±1, or ± a row of `columns`). */
  function move(delta: number) {
    const list = order.value;
    if (list.length === 0) return;
    const index = selectedId.value ? list.indexOf(selectedId.value) : -1;
    selectedId.value = list[Math.max(0, Math.min(list.length - 1, index < 0 ? 0 : index + delta))]!;
  }

  function toggleNearest(id: string | null = selectedId.value) {
    if (!id) return;
    const next = new Set(nearestShown.value);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    nearestShown.value = next;
  }

  return {
    pairsId, path, pairs, report, selectedId, selected, sort, decisionFilter, generationFilter, ganFilter, nearCopyOnly, grouping, nearestShown, columns, busy, error,
    visible, groups, order, counts, generations, ganDirs, open, pixels, decide, select, move, toggleNearest,
  };
});
