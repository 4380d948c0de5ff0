import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { GanListItem, GanProgress, GanSplitOption, GanTrainRequest } from '../../../src-shared/contract';
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
  /** Split files of the opened dataset a GAN can train on. */
  const splits = ref<GanSplitOption[]>([]);
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
      // A training that was running before this window opened (or before the server restarted): watch it.
      const running = gans.value.find((item) => item.state === 'running');
      if (!running) return;
      const history = running.batchLosses ?? [];
      if (live.value?.ganId !== running.ganId) {
        live.value = { ganId: running.ganId, state: 'running', epoch: running.epoch, epochs: running.epochs, points: [...history], sampleGrid: null, sampleEpoch: running.epoch };
      } else if (history.length > 0) {
        // Pushes that arrived before this answer continue the curve the server kept.
        const last = history[history.length - 1]!.x;
        live.value.points = [...history, ...live.value.points.filter((p) => p.x > last)];
      }
      if (!live.value.sampleGrid) {
        const grid = unwrap(await useApi().gan.sampleGrid({ ganId: running.ganId }));
        if (grid && live.value?.ganId === running.ganId && !live.value.sampleGrid) Object.assign(live.value, { sampleGrid: grid, sampleEpoch: running.epoch });
      }
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function loadSplits(datasetId: string | null) {
    if (!datasetId) {
      splits.value = [];
      return;
    }
    try {
      splits.value = unwrap(await useApi().gan.listSplits({ datasetId }));
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
      // A split made for this GAN is offered for the next one.
      if (!request.splitFile) await loadSplits(request.datasetId);
      await refresh();
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

  return { gans, live, splits, error, subscribe, refresh, loadSplits, start, cancel, dispose: () => unsubscribe?.() };
});
