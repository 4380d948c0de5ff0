import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RunDetail, RunListItem, TrainingLaunch, TrainingProgress, TrainRequest } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  valDice: number | null;
  valIou: number | null;
}

export interface LiveRun {
  runId: string;
  state: RunListItem['state'];
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number | null;
  etaSeconds: number | null;
  points: EpochPoint[];
  message?: string;
  /** Place in the training queue while queued (1 = next). */
  position?: number;
  /** The long phase under way outside the training steps (decoding, validation, test), if any. */
  phase?: { phase: 'scan' | 'decode' | 'validation' | 'test'; done: number; total: number };
}

/** Runs: the list, the one being watched, and live progress pushed by the back end. */
export const useTrainingStore = defineStore('training', () => {
  const runs = ref<RunListItem[]>([]);
  const live = ref<Record<string, LiveRun>>({});
  const watched = ref<string | null>(null);
  const detail = ref<RunDetail | null>(null);
  const error = ref<string | null>(null);
  /** True from a click on Start until the back end answered: a second click does nothing. */
  const starting = ref(false);
  /** The run whose page is loading (reading a run takes a few seconds on a large one). */
  const loadingDetail = ref<string | null>(null);
  /** The last run folder shown by "open folder" in a browser, with its path to copy. */
  const shownFolder = ref<{ runId: string; dir: string } | null>(null);
  let unsubscribe: (() => void) | undefined;

  const watchedRun = computed(() => (watched.value ? (live.value[watched.value] ?? null) : null));
  /** Runs training now or waiting their turn, in queue order after the running ones. */
  const activeRuns = computed(() =>
    runs.value.filter((r) => r.state === 'running' || r.state === 'queued').sort((a, b) => (a.queuePosition ?? 0) - (b.queuePosition ?? 0)),
  );

  function ensureLive(runId: string): LiveRun {
    live.value[runId] ??= { runId, state: 'running', epoch: 0, epochs: 0, batch: 0, batches: 0, loss: null, etaSeconds: null, points: [] };
    return live.value[runId]!;
  }

  function onProgress(progress: TrainingProgress) {
    const run = ensureLive(progress.runId);
    if (progress.kind === 'phase') {
      if (progress.done < progress.total) run.phase = { phase: progress.phase, done: progress.done, total: progress.total };
      else delete run.phase;
    } else if (progress.kind === 'batch') {
      delete run.phase;
      Object.assign(run, { epoch: progress.epoch, epochs: progress.epochs, batch: progress.batch, batches: progress.batches, loss: progress.loss, etaSeconds: progress.etaSeconds });
    } else if (progress.kind === 'epoch') {
      run.epochs = progress.epochs;
      if (!run.points.some((p) => p.epoch === progress.epoch)) run.points.push({ epoch: progress.epoch, trainLoss: progress.trainLoss, valLoss: progress.valLoss, valDice: progress.valDice, valIou: progress.valIou });
    } else {
      const changed = run.state !== progress.state;
      run.state = progress.state;
      if (progress.state === 'queued') run.position = progress.position;
      else delete run.position;
      if (progress.message) run.message = progress.message;
      if (changed || progress.state === 'queued') void refresh();
    }
  }

  function subscribe() {
    unsubscribe ??= useApi().training.onProgress(onProgress);
  }

  async function refresh() {
    runs.value = unwrap(await useApi().runs.list({}));
    // After a reload, pick up runs that are still training or queued, with the epochs they already logged.
    for (const item of runs.value.filter((r) => r.state === 'running' || r.state === 'queued')) {
      const run = ensureLive(item.runId);
      run.state = item.state;
      if (item.queuePosition !== undefined) run.position = item.queuePosition;
      else delete run.position;
      if (run.points.length === 0 && item.epoch > 0) {
        const d = unwrap(await useApi().runs.get({ runId: item.runId }));
        run.points = d.metrics.map((m) => ({ ...m }));
        run.epochs = d.epochs;
      }
      watched.value ??= item.runId;
    }
  }

  function launched(launch: TrainingLaunch, epochs: number) {
    const run = ensureLive(launch.runId);
    run.epochs = epochs;
    run.state = launch.state;
    delete run.message;
    if (launch.position !== undefined) run.position = launch.position;
    watched.value = launch.runId;
  }

  async function start(request: TrainRequest) {
    if (starting.value) return;
    starting.value = true;
    error.value = null;
    try {
      subscribe();
      launched(unwrap(await useApi().training.start(request)), request.epochs ?? 0);
      await refresh();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      starting.value = false;
    }
  }

  /** Continues a cancelled, interrupted or failed run from its last checkpoint (queued like a start). */
  async function resume(runId: string) {
    error.value = null;
    try {
      subscribe();
      const item = runs.value.find((r) => r.runId === runId);
      launched(unwrap(await useApi().training.resume({ runId })), item?.epochs ?? 0);
      await refresh();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function cancel(runId: string) {
    const wasQueued = live.value[runId]?.state === 'queued';
    unwrap(await useApi().training.cancel({ runId }));
    if (!wasQueued) return;
    // Taken off the queue before it started: nothing of it remains to watch; show the one training.
    delete live.value[runId];
    await refresh();
    if (watched.value === runId) watched.value = activeRuns.value[0]?.runId ?? null;
  }

  async function open(runId: string) {
    loadingDetail.value = runId;
    try {
      const got = unwrap(await useApi().runs.get({ runId }));
      if (loadingDetail.value === runId) detail.value = got;
    } finally {
      if (loadingDetail.value === runId) loadingDetail.value = null;
    }
  }

  /** Deletes a stopped run (the back end refuses running and queued ones). */
  async function remove(runId: string) {
    error.value = null;
    try {
      unwrap(await useApi().runs.delete({ runId }));
      if (detail.value?.runId === runId) detail.value = null;
      delete live.value[runId];
      await refresh();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** Opens the run folder in the file manager (desktop), or shows its path to copy (browser). */
  async function openFolder(runId: string) {
    error.value = null;
    try {
      const result = unwrap(await useApi().runs.openFolder({ runId }));
      shownFolder.value = result.opened ? null : { runId, dir: result.dir };
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  return { runs, live, watched, watchedRun, activeRuns, detail, error, starting, loadingDetail, shownFolder, subscribe, refresh, start, resume, cancel, open, remove, openFolder, onProgress };
});
