import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetOpenProgress, DatasetReportView, FolderListing, RecentDataset, SliceListItem, SystemInfo } from '../../../src-shared/contract';
import { unwrap, useApi } from '../api/app-api';

/** The open dataset, its report and slice list, recent datasets, and the system facts the UI shows. */
export const useDatasetsStore = defineStore('datasets', () => {
  const system = ref<SystemInfo | null>(null);
  const datasetId = ref<string | null>(null);
  const report = ref<DatasetReportView | null>(null);
  const slices = ref<SliceListItem[]>([]);
  /** What is being opened now (the newest request), for the progress line. */
  const opening = ref<{ what: string; progress: DatasetOpenProgress | null } | null>(null);
  const busy = computed(() => opening.value !== null);
  const error = ref<string | null>(null);
  /** A note about start-up, e.g. that the last dataset could not be opened again. */
  const notice = ref<string | null>(null);
  const recent = ref<RecentDataset[]>([]);
  const opened = computed(() => datasetId.value !== null);
  /** Every open request takes a number; only the newest may change what is open (older answers are dropped). */
  let newest = 0;
  let unsubscribe: (() => void) | undefined;

  async function loadSystem() {
    system.value = unwrap(await useApi().system.info({}));
    unsubscribe ??= useApi().datasets.onProgress((progress) => {
      if (opening.value) opening.value.progress = progress;
    });
  }

  async function loadRecent() {
    try {
      recent.value = unwrap(await useApi().datasets.recent({}));
    } catch {
      recent.value = [];
    }
  }

  let reportRequest = 0;
  /**
   * Asks again for the open dataset's report: its orientation warnings follow the orientation saved
   * since it was opened (turning the picture clears "looks rotated"). Only the newest answer is kept.
   */
  async function refreshReport() {
    const id = datasetId.value;
    if (!id) return;
    const mine = ++reportRequest;
    const fresh = unwrap(await useApi().datasets.report({ datasetId: id }));
    if (mine === reportRequest && datasetId.value === id) report.value = fresh;
  }

  /** Runs one open request; returns false when it failed or a newer request superseded it. */
  async function finishOpen(what: string, run: () => Promise<{ id: string; report: DatasetReportView }>): Promise<boolean> {
    const mine = ++newest;
    opening.value = { what, progress: null };
    error.value = null;
    try {
      const result = await run();
      const list = unwrap(await useApi().slices.list({ datasetId: result.id }));
      // The user opened something else meanwhile (or start-up's sample came back late): theirs stands.
      if (mine !== newest) return false;
      datasetId.value = result.id;
      report.value = result.report;
      slices.value = list;
      notice.value = null;
      void loadRecent();
      return true;
    } catch (e) {
      if (mine === newest) error.value = (e as Error).message;
      return false;
    } finally {
      if (mine === newest) opening.value = null;
    }
  }

  const openPath = (path: string) => finishOpen(path.trim(), async () => unwrap(await useApi().datasets.open({ path })));
  const openSample = () => finishOpen('the built-in sample', async () => unwrap(await useApi().datasets.openSample({})));

  async function pickFolder() {
    const path = unwrap(await useApi().datasets.pickFolder({}));
    if (path) await openPath(path);
  }

  /**
   * Start-up: the dataset the URL names, else the last one opened, else the built-in sample. Each is
   * an ordinary request, so a folder the user opens meanwhile is newer and wins.
   */
  async function restore(fromUrl: string | null) {
    await loadRecent();
    // The user opened something while the app was starting: nothing to restore over it.
    if (newest !== 0) return;
    const last = fromUrl ?? recent.value[0]?.path ?? null;
    if (last) {
      if (await openPath(last)) return;
      if ((newest as number) !== 1) return; // superseded by the user's own request
      const reason = error.value;
      error.value = null;
      if (await openSample()) notice.value = `The last dataset (${last}) could not be opened again${reason ? `: ${reason}` : ''}. The built-in sample is open instead.`;
      return;
    }
    await openSample();
  }

  async function browse(path?: string): Promise<FolderListing> {
    return unwrap(await useApi().datasets.browse(path === undefined ? {} : { path }));
  }

  return { system, datasetId, report, slices, opening, busy, error, notice, recent, opened, loadSystem, loadRecent, openPath, openSample, pickFolder, restore, browse, refreshReport };
});
