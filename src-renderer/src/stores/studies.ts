import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { StudyPredictionResult, StudyProgress } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';
import { useViewerStore } from './viewer';

export interface StudyJob {
  jobId: string;
  study: string;
  runId: string;
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  done: number;
  total: number;
  result?: StudyPredictionResult;
  message?: string;
}

/** Whole-study predictions: start one for the current slice's study, follow it, show its labels as the overlay. */
export const useStudiesStore = defineStore('studies', () => {
  const job = ref<StudyJob | null>(null);
  const error = ref<string | null>(null);
  let unsubscribe: (() => void) | undefined;
  /**
   * Events of a job whose start has not been answered yet: a short study can finish (and say so)
   * before the predict request returns, and that completion must not be lost.
   */
  const early = new Map<string, StudyProgress[]>();

  function onProgress(event: StudyProgress) {
    const current = job.value;
    if (!current || current.jobId !== event.jobId) {
      if (early.size > 20) early.clear();
      early.set(event.jobId, [...(early.get(event.jobId) ?? []), event]);
      return;
    }
    if (event.kind === 'progress') {
      current.done = event.done;
      current.total = event.total;
    } else if (event.kind === 'completed') {
      current.state = 'completed';
      current.done = current.total;
      current.result = event.result;
      useViewerStore().studyOverlay = { jobId: event.jobId, study: event.result.study, engine: event.result.engine };
    } else {
      current.state = event.kind;
      if (event.kind === 'failed') current.message = event.message;
    }
  }

  async function predict(sliceId: string, runId: string, engine: 'auto' | 'onnx' | 'tfjs') {
    const datasetId = useDatasetsStore().datasetId;
    if (!datasetId) return;
    error.value = null;
    unsubscribe ??= useApi().studies.onProgress(onProgress);
    try {
      const started = unwrap(await useApi().studies.predict({ datasetId, sliceId, runId, engine }));
      job.value = { jobId: started.jobId, study: started.study, runId, state: 'running', done: 0, total: started.slices };
      for (const event of early.get(started.jobId) ?? []) onProgress(event);
      early.delete(started.jobId);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function cancel() {
    if (!job.value || job.value.state !== 'running') return;
    try {
      unwrap(await useApi().studies.cancel({ jobId: job.value.jobId }));
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  return { job, error, predict, cancel, onProgress };
});
