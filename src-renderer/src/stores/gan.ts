import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { GanListItem, GanProgress, GanTrainRequest } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

/** One point of the live loss chart: a batch (x = epoch + fraction) with its G and D loss. */
export interface GanLossPoint {
  x: number;
  gLoss: number;
  dLoss: number;
}

export interface LiveGan {
  ganId: string;
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  epoch: number;
  epochs: number;
  points: GanLossPoint[];
  /** The latest per-epoch sample grid (PNG data URL). */
  sampleGrid: string | null;
  sampleEpoch: number;
  message?: string;
}

/** GAN trainings: the list, the one being watched with its live losses and sample grid. */
export const useGanStore = defineStore('gan', () => {
  const gans = ref<GanListItem[]>([]);
  const live = ref<LiveGan | null>(null);
  const error = ref<string | null>(null);
  let unsubscribe: (() => void) | undefined;

  function onProgress(progress: GanProgress) {
    if (!live.value || live.value.ganId !== progress.ganId) {
      live.value = { ganId: progress.ganId, state: 'running', epoch: 0, epochs: 0, points: [], sampleGrid: null, sampleEpoch: 0 };
    }
    const gan = live.value;
    if (progress.kind === 'batch') {
      Object.assign(gan, { epoch: progress.epoch, epochs: progress.epochs });
      gan.points.push({ x: progress.epoch - 1 + progress.batch / progress.batches, gLoss: progress.gLoss, dLoss: progress.dLoss });
    } else if (progress.kind === 'epoch') {
      Object.assign(gan, { epoch: progress.epoch, epochs: progress.epochs });
      if (progress.sampleGrid) Object.assign(gan, { sampleGrid: progress.sampleGrid, sampleEpoch: progress.epoch });
    } else {
      gan.state = progress.state;
      if (progress.message) gan.message = progress.message;
      if (progress.state !== 'running') void refresh();
    }
  }

  function subscribe() {
    unsubscribe ??= useApi().gan.onProgress(onProgress);
  }

  async function refresh() {
    try {
      gans.value = unwrap(await useApi().gan.listGans({}));
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function start(request: GanTrainRequest) {
    error.value = null;
    try {
      const { ganId } = unwrap(await useApi().gan.startTraining(request));
      // Its first progress may have arrived before this answer: keep what it brought.
      if (live.value?.ganId !== ganId) live.value = { ganId, state: 'running', epoch: 0, epochs: request.epochs ?? 0, points: [], sampleGrid: null, sampleEpoch: 0 };
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function cancel() {
    if (!live.value) return;
    try {
      unwrap(await useApi().gan.cancelTraining({ ganId: live.value.ganId }));
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  return { gans, live, error, subscribe, refresh, start, cancel, dispose: () => unsubscribe?.() };
});
