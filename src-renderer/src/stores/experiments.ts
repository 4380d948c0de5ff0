import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ExperimentDetail, ExperimentListItem, ExperimentProgress, ExperimentStartRequest } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

/** Experiments: the workspace's grids, the one open, its two cells picked for comparison, and live progress. */
export const useExperimentsStore = defineStore('experiments', () => {
  const experiments = ref<ExperimentListItem[]>([]);
  const detail = ref<ExperimentDetail | null>(null);
  const progress = ref<Record<string, ExperimentProgress>>({});
  /** Two cell ids of the open experiment, shown side by side. */
  const compared = ref<[string | null, string | null]>([null, null]);
  const error = ref<string | null>(null);
  let unsubscribe: (() => void) | undefined;

  const comparedCells = computed(() => compared.value.map((id) => detail.value?.cells.find((c) => c.cellId === id) ?? null));

  async function guard<T>(work: () => Promise<T>): Promise<T | undefined> {
    error.value = null;
    try {
      return await work();
    } catch (e) {
      error.value = (e as Error).message;
      return undefined;
    }
  }

  async function refresh(): Promise<void> {
    await guard(async () => {
      experiments.value = unwrap(await useApi().experiments.list({}));
    });
  }

  async function open(experimentId: string): Promise<void> {
    await guard(async () => {
      const value = unwrap(await useApi().experiments.get({ experimentId }));
      const same = detail.value?.experimentId === experimentId;
      detail.value = value;
      if (!same) {
        const done = value.cells.filter((c) => c.state === 'done');
        compared.value = [done[0]?.cellId ?? null, done.find((c) => c.recipe !== done[0]?.recipe)?.cellId ?? done[1]?.cellId ?? null];
      }
    });
  }

  async function start(request: ExperimentStartRequest): Promise<void> {
    await guard(async () => {
      const { experimentId } = unwrap(await useApi().experiments.start(request));
      await refresh();
      await open(experimentId);
    });
  }

  async function cancel(experimentId: string): Promise<void> {
    await guard(async () => unwrap(await useApi().experiments.cancel({ experimentId })));
  }

  function subscribe(): void {
    unsubscribe ??= useApi().experiments.onProgress((p) => {
      progress.value[p.experimentId] = p;
      const counts = { done: p.done, running: p.running, failed: p.failed, active: p.state === 'running' };
      const item = experiments.value.find((e) => e.experimentId === p.experimentId);
      if (item) Object.assign(item, counts);
      // The counts show at once; the tables follow when the detail has been read again.
      if (detail.value?.experimentId === p.experimentId) {
        Object.assign(detail.value, counts);
        void open(p.experimentId);
      }
    });
  }

  return { experiments, detail, progress, compared, comparedCells, error, refresh, open, start, cancel, subscribe };
});
