import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetReportView, SliceListItem, SystemInfo } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

/** The open dataset, its report and slice list, and the system facts the UI shows. */
export const useDatasetsStore = defineStore('datasets', () => {
  const system = ref<SystemInfo | null>(null);
  const datasetId = ref<string | null>(null);
  const report = ref<DatasetReportView | null>(null);
  const slices = ref<SliceListItem[]>([]);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const opened = computed(() => datasetId.value !== null);

  async function loadSystem() {
    system.value = unwrap(await useApi().system.info({}));
  }

  async function finishOpen(run: () => Promise<{ id: string; report: DatasetReportView }>) {
    busy.value = true;
    error.value = null;
    try {
      const result = await run();
      datasetId.value = result.id;
      report.value = result.report;
      slices.value = unwrap(await useApi().slices.list({ datasetId: result.id }));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
    }
  }

  const openPath = (path: string) => finishOpen(async () => unwrap(await useApi().datasets.open({ path })));
  const openSample = () => finishOpen(async () => unwrap(await useApi().datasets.openSample({})));

  async function pickFolder() {
    const path = unwrap(await useApi().datasets.pickFolder({}));
    if (path) await openPath(path);
  }

  return { system, datasetId, report, slices, busy, error, opened, loadSystem, openPath, openSample, pickFolder };
});
