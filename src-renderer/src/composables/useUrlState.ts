import { nextTick, watch, type Ref } from 'vue';
import { formatPair, parsePair, useCompareStore } from '../stores/compare';
import { useDatasetsStore } from '../stores/datasets';
import { useTrainingStore } from '../stores/training';
import { useViewerStore, type LesionFilter, type SortOrder } from '../stores/viewer';

/** What a reload must bring back: the tab, the dataset, the slice, the runs chosen, and how slices are sorted. */
export interface UrlState {
  tab: string | null;
  dataset: string | null;
  slice: string | null;
  /** The run whose prediction the slice browser overlays. */
  run: string | null;
  /** The run open on the Runs page. */
  detail: string | null;
  sort: string | null;
  filter: string | null;
  /** Compare mode's two panes (`truth,run:ID`), absent in the single view. */
  compare: string | null;
}

const KEYS = ['tab', 'dataset', 'slice', 'run', 'detail', 'sort', 'filter', 'compare'] as const;
const SESSION_KEY = 'covseg.view';
const SORTS: SortOrder[] = ['name', 'lesion', 'worst-dice'];
const FILTERS: LesionFilter[] = ['all', 'with-lesion', 'without-lesion'];

/**
 * The view state from the address (query string), else from this tab's sessionStorage (the server
 * drops the query when it trades the start-up token for a cookie; Electron reloads keep it).
 */
export function readUrlState(): UrlState {
  const query = new URLSearchParams(window.location.search);
  let session: Partial<UrlState> = {};
  try {
    session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? '{}') as Partial<UrlState>;
  } catch {
    // A damaged entry: the query alone.
  }
  const useQuery = KEYS.some((k) => query.has(k));
  return Object.fromEntries(KEYS.map((k) => [k, useQuery ? query.get(k) : (session[k] ?? null)])) as unknown as UrlState;
}

/** Brings back the slice, runs and sorting of `state` once its dataset is the open one. */
export async function restoreViewState(state: UrlState): Promise<void> {
  const datasets = useDatasetsStore();
  const viewer = useViewerStore();
  const training = useTrainingStore();
  if (state.detail) void training.open(state.detail).catch(() => undefined);
  if (!state.dataset || datasets.datasetId !== state.dataset) return;
  if (state.sort && (SORTS as string[]).includes(state.sort)) viewer.sort = state.sort as SortOrder;
  if (state.filter && (FILTERS as string[]).includes(state.filter)) viewer.filter = state.filter as LesionFilter;
  await nextTick(); // changing sort or filter goes back to the first slice: select after that
  if (state.run) await viewer.chooseRun(state.run).catch(() => undefined);
  if (state.slice) viewer.select(state.slice);
  const pair = state.compare ? parsePair(state.compare) : null;
  if (pair) useCompareStore().open(pair);
}

/** Keeps the address and sessionStorage in step with the view (replaceState: no history entry per slice). */
export function syncUrlState(tab: Ref<string>, restoring: Ref<UrlState | null>): void {
  const datasets = useDatasetsStore();
  const viewer = useViewerStore();
  const training = useTrainingStore();
  const compare = useCompareStore();
  const snapshot = (): UrlState => {
    // While start-up restores, values not there yet keep the address's; once the user opens a dataset, theirs count.
    const pending = restoring.value && (datasets.datasetId === null || datasets.datasetId === restoring.value.dataset) ? restoring.value : null;
    return {
      tab: tab.value,
      dataset: datasets.datasetId ?? pending?.dataset ?? null,
      slice: pending?.slice && (!viewer.current || viewer.index === 0) ? pending.slice : (viewer.current?.id ?? null),
      run: viewer.runId ?? pending?.run ?? null,
      detail: training.detail?.runId ?? pending?.detail ?? null,
      sort: viewer.sort === 'name' ? (pending?.sort ?? null) : viewer.sort,
      filter: viewer.filter === 'all' ? (pending?.filter ?? null) : viewer.filter,
      compare: compare.enabled ? formatPair(compare.sources) : (pending?.compare ?? null),
    };
  };
  watch(
    snapshot,
    (state) => {
      const query = new URLSearchParams();
      // The first tab is the default: an address with nothing else open stays bare.
      for (const k of KEYS) if (state[k] && !(k === 'tab' && state[k] === 'datasets')) query.set(k, state[k]!);
      const search = query.toString();
      history.replaceState(history.state, '', `${window.location.pathname}${search ? `?${search}` : ''}${window.location.hash}`);
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(state));
    },
    { immediate: true, deep: true },
  );
}
