import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { AnnotationQueueItem, AnnotationSliceState, AnnotationSource, AnnotationStatus, AnnotationVersion, LungMaskSource, TrainRequest } from '../../../src-shared/contract';
import { edgesFromDisplay, lungLabelForSide } from '../../../src-shared/lung-sides';
import { IDENTITY_ORIENTATION, type EdgeLabels, type Orientation } from '../../../src-shared/orientation';
import { addLesionToLung } from '../components/annotate/lung-edit';
import { LabelHistory } from '../components/annotate/label-history';
import { diffLabels, type LabelPatch } from '../components/annotate/label-tools';
import { decodeRuns, EditJournal, encodeRuns, LUNG_JOURNAL_PREFIX } from '../components/annotate/edit-journal';
import { thresholdPrediction, type HeldPrediction } from '../components/annotate/prediction-labels';
import { unwrap, useApi } from '../api/app-api';
import { useDatasetsStore } from './datasets';
import { useTrainingStore } from './training';

export type AnnotateTool = 'brush' | 'eraser' | 'fill' | 'hole' | 'lasso';
/** What the tools paint: the lesion labels, or the slice's lung mask (to correct the computed one). */
export type EditTarget = 'lesion' | 'lung';

/**
 * The slice's lung mask as edited in this session (source coordinates, 0 outside, 1 and 2 the two
 * lungs), with its own undo steps and autosave: the workspace's lung-correction store, beside the labels.
 */
export interface LungSession {
  /** The dataset the slice belongs to: a save still in its autosave delay when another dataset opens goes to this one. */
  datasetId: string;
  lung: Uint8Array;
  /** The mask computed from the CT: "reset to computed", and what a lung equal to it saves as. */
  computed: Uint8Array;
  history: LabelHistory;
  version: number;
  /** What the store holds now (the view shows "corrected by you" or "computed"). */
  source: LungMaskSource;
  versions: AnnotationVersion[];
  edits: number;
  savedEdits: number;
  tools: Set<string>;
  saving: Promise<void> | null;
  conflict: string | null;
}

/** One slice as edited in this session: labels in source coordinates, undo steps, save state. */
export interface SliceSession {
  sliceId: string;
  width: number;
  height: number;
  image: Uint8Array;
  hu: Uint8Array | null;
  huValues: Float32Array | null;
  labels: Uint8Array;
  history: LabelHistory;
  /** The saved version the edits build on. */
  version: number;
  status: AnnotationStatus;
  versions: AnnotationVersion[];
  /** Edits since the last successful save; tools used in them. */
  edits: number;
  savedEdits: number;
  tools: Set<string>;
  source: AnnotationSource;
  runId?: string;
  saving: Promise<void> | null;
  conflict: string | null;
  /** Volumes: the anatomical edges of the stored slice (which side is the patient's right). */
  edges: EdgeLabels | null;
  lungEdit: LungSession;
}

/** Milliseconds after the last stroke before it is saved (the brief: within a second). */
export const AUTOSAVE_DELAY_MS = 600;

const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
function encode(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** The Annotate view: slices being edited, tools, autosave, predictions to start from, the review queue. */
export const useAnnotateStore = defineStore('annotate', () => {
  const datasets = useDatasetsStore();
  const sessions = new Map<string, SliceSession>();
  const current = shallowRef<SliceSession | null>(null);
  /** Bumped on every change of the current labels, so views redraw. */
  const revision = ref(0);
  const sliceId = ref<string | null>(null);
  const states = ref<Map<string, AnnotationSliceState>>(new Map());
  const tool = ref<AnnotateTool>('brush');
  const label = ref<1 | 2>(1);
  const target = ref<EditTarget>('lesion');
  /** The patient's lung the brush adds to when the target is the lung. */
  const lungSide = ref<'right' | 'left'>('right');
  /** Show the lung outline while painting lesions too. */
  const showLung = ref(false);
  /** The dataset's display orientation: PNG slices name the patient's sides by it (src-shared/lung-sides.ts). */
  const orientation = ref<Orientation>({ ...IDENTITY_ORIENTATION });
  const brushSize = ref(12);
  const threshold = ref({ enabled: false, low: -800, high: 100 });
  const opacity = ref(0.55);
  const outline = ref(false);
  const huWindow = ref({ width: 1500, level: -600 });
  const error = ref<string | null>(null);
  /** Slices with edits not yet saved (shown to the user; saved within a second). */
  const unsaved = ref<Set<string>>(new Set());
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  // Prediction to start from.
  const runId = ref<string | null>(null);
  const prediction = shallowRef<(HeldPrediction & { sliceId: string; runId: string }) | null>(null);
  const predictionThreshold = ref(0.5);
  const previewPrediction = ref(true);
  const queue = ref<AnnotationQueueItem[]>([]);
  const queueOrder = ref<'uncertainty' | 'agreement'>('uncertainty');
  const busy = ref<string | null>(null);
  const lastExport = ref<{ out: string; version: string; slices: number } | null>(null);
  const retrainRunId = ref<string | null>(null);
  /** Unsaved edits kept in localStorage on every stroke, so a killed or reloaded tab loses none. */
  const journal = new EditJournal();
  /** The same for lung corrections: a killed tab's lung strokes are saved again on the next open. */
  const lungJournal = new EditJournal(globalThis.localStorage, LUNG_JOURNAL_PREFIX);
  /** Why the browser refused to journal the last stroke (storage full or disabled), else null. */
  const journalFailed = ref<string | null>(null);
  /** Slices whose unsaved edits were found in the journal after a reload and saved again. */
  const recovered = ref<string[]>([]);
  /**
   * Slices whose journaled edits could not be saved because another tab or window saved the slice
   * since: the edits are kept (session and journal) until the person keeps them or loads the other edit.
   */
  const recoveredConflicts = ref<string[]>([]);
  /** The dataset whose journal was replayed: once per dataset and page, or a second pass would undo the first. */
  let replayedFor: string | null = null;

  const sliceIds = computed(() => datasets.slices.map((s) => s.id));
  const index = computed(() => (sliceId.value ? sliceIds.value.indexOf(sliceId.value) : -1));

  async function refreshStates() {
    if (!datasets.datasetId) return;
    const list = unwrap(await useApi().annotations.status({ datasetId: datasets.datasetId }));
    states.value = new Map(list.map((s) => [s.sliceId, s]));
  }

  async function loadSession(id: string): Promise<SliceSession> {
    const cached = sessions.get(id);
    if (cached) return cached;
    const datasetId = datasets.datasetId!;
    const [pixels, annotation, lungMask] = await Promise.all([
      useApi().slices.get({ datasetId, sliceId: id }),
      useApi().annotations.get({ datasetId, sliceId: id }),
      useApi().annotations.lung({ datasetId, sliceId: id }),
    ]);
    const got = unwrap(pixels);
    const saved = unwrap(annotation);
    const lung = unwrap(lungMask);
    const huValues = got.hu ? new Float32Array(decode(got.hu).buffer) : null;
    const session: SliceSession = {
      sliceId: id,
      width: got.width,
      height: got.height,
      image: decode(got.image),
      hu: null,
      huValues,
      labels: decode(saved.labels),
      history: new LabelHistory(),
      version: saved.version,
      status: saved.status,
      versions: saved.history,
      edits: 0,
      savedEdits: 0,
      tools: new Set(),
      source: 'manual',
      saving: null,
      conflict: null,
      edges: got.edges ?? null,
      lungEdit: {
        datasetId,
        lung: decode(lung.lung),
        computed: decode(lung.computed),
        history: new LabelHistory(),
        version: lung.version,
        source: lung.source,
        versions: lung.history,
        edits: 0,
        savedEdits: 0,
        tools: new Set(),
        saving: null,
        conflict: null,
      },
    };
    sessions.set(id, session);
    return session;
  }

  /** Shows a slice; edits of the previous one keep saving in the background (switching never waits). */
  async function open(id: string) {
    sliceId.value = id;
    error.value = null;
    try {
      const session = await loadSession(id);
      if (sliceId.value !== id) return;
      current.value = session;
      revision.value++;
      void loadPrediction();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function step(delta: number) {
    const ids = sliceIds.value;
    if (ids.length === 0) return;
    const next = Math.min(ids.length - 1, Math.max(0, index.value + delta));
    void open(ids[next]!);
  }

  /** Records an applied change (one stroke) of the current slice: undo step, unsaved mark, autosave. */
  function commitStroke(patch: LabelPatch | null, toolName: string) {
    const session = current.value;
    if (!session || !patch) return;
    if (target.value === 'lung') {
      session.lungEdit.history.push(patch);
      session.lungEdit.tools.add(toolName);
      markLungEdited(session);
      return;
    }
    session.history.push(patch);
    session.tools.add(toolName);
    markEdited(session);
  }

  function markEdited(session: SliceSession) {
    session.edits++;
    if (session.source !== 'prediction' || session.status !== 'predicted') session.status = 'corrected';
    unsaved.value = new Set(unsaved.value).add(session.sliceId);
    journalWrite(session);
    revision.value++;
    scheduleSave(session);
  }

  /** Journals the session's labels as they are now: synchronous, before the stroke returns. */
  function journalWrite(session: SliceSession) {
    journal.write({
      datasetId: datasets.datasetId!,
      sliceId: session.sliceId,
      baseVersion: session.version,
      width: session.width,
      height: session.height,
      runs: encodeRuns(session.labels),
      status: session.status,
      source: session.source,
      ...(session.runId ? { runId: session.runId } : {}),
      tools: [...session.tools],
    });
    journalFailed.value = journal.failed;
  }

  /**
   * Saves again the edits a killed or reloaded tab left in the journal. Edits that build on the
   * version saved now are re-applied (one undo step) and saved; when another version was saved
   * since, they are re-applied on their old base, so the save is refused as "saved elsewhere" and
   * the person chooses — nothing is overwritten either way. Says which slices were saved and which
   * wait for that choice (the saves are awaited: a refused one must not be reported as saved).
   */
  async function replayJournal() {
    const datasetId = datasets.datasetId;
    if (!datasetId || replayedFor === datasetId) return;
    replayedFor = datasetId;
    recovered.value = [];
    recoveredConflicts.value = [];
    const found: SliceSession[] = [];
    for (const entry of await journal.orphans(datasetId)) {
      if (datasets.datasetId !== datasetId || !sliceIds.value.includes(entry.sliceId)) continue;
      const session = await loadSession(entry.sliceId);
      const labels = decodeRuns(entry.runs, session.width * session.height);
      const patch = labels && entry.width === session.width ? diffLabels(session.labels, labels) : null;
      if (!labels || !patch) {
        journal.remove(datasetId, entry.sliceId);
        continue;
      }
      session.labels.set(labels);
      session.history.push(patch);
      session.version = entry.baseVersion;
      session.status = entry.status;
      session.source = entry.source;
      if (entry.runId) session.runId = entry.runId;
      for (const t of entry.tools) session.tools.add(t);
      session.tools.add('recovered');
      markEdited(session);
      found.push(session);
    }
    const lungFound = await replayLungJournal(datasetId);
    if (lungFound.length > 0) {
      await Promise.all(lungFound.map((session) => saveLung(session)));
      if (datasets.datasetId !== datasetId) return;
      recovered.value = [...recovered.value, ...lungFound.filter((s) => !s.lungEdit.conflict).map((s) => `${s.sliceId} (lung)`)];
      recoveredConflicts.value = [...recoveredConflicts.value, ...lungFound.filter((s) => s.lungEdit.conflict).map((s) => s.sliceId)];
    }
    if (found.length === 0) return;
    await Promise.all(found.map((session) => saveNow(session)));
    if (datasets.datasetId !== datasetId) return;
    recovered.value = [...recovered.value, ...found.filter((session) => !session.conflict).map((session) => session.sliceId)];
    recoveredConflicts.value = [...recoveredConflicts.value, ...found.filter((session) => session.conflict).map((session) => session.sliceId)];
  }

  /**
   * The lung corrections a killed or reloaded tab left in the lung journal, re-applied (one undo step
   * of the lung) on the version they started from: saved when nothing was saved since, else refused
   * as "saved elsewhere" and left for the person to choose, as lesion edits are.
   */
  async function replayLungJournal(datasetId: string): Promise<SliceSession[]> {
    const found: SliceSession[] = [];
    for (const entry of await lungJournal.orphans(datasetId)) {
      if (datasets.datasetId !== datasetId || !sliceIds.value.includes(entry.sliceId)) continue;
      const session = await loadSession(entry.sliceId);
      const lung = decodeRuns(entry.runs, session.width * session.height);
      const patch = lung && entry.width === session.width ? diffLabels(session.lungEdit.lung, lung) : null;
      if (!lung || !patch) {
        lungJournal.remove(datasetId, entry.sliceId);
        continue;
      }
      session.lungEdit.lung.set(lung);
      session.lungEdit.history.push(patch);
      session.lungEdit.version = entry.baseVersion;
      for (const t of entry.tools) session.lungEdit.tools.add(t);
      session.lungEdit.tools.add('recovered');
      markLungEdited(session);
      clearTimeout(lungTimers.get(session.sliceId));
      found.push(session);
    }
    return found;
  }

  /** The patient's sides of the slice: a volume's affine, else the dataset's display orientation (lung-sides.ts). */
  function edgesOf(session: SliceSession): EdgeLabels {
    return session.edges ?? edgesFromDisplay(orientation.value);
  }

  /** The lung label the brush paints for the chosen side (null when the slice's edges do not say where the right is). */
  function lungLabel(): 1 | 2 | null {
    const session = current.value;
    if (!session) return null;
    return lungLabelForSide(lungSide.value, session.lungEdit.lung, session.width, session.height, edgesOf(session));
  }

  function markLungEdited(session: SliceSession) {
    session.lungEdit.edits++;
    lungJournal.write({
      datasetId: session.lungEdit.datasetId,
      sliceId: session.sliceId,
      baseVersion: session.lungEdit.version,
      width: session.width,
      height: session.height,
      runs: encodeRuns(session.lungEdit.lung),
      status: 'corrected',
      source: 'manual',
      tools: [...session.lungEdit.tools],
    });
    journalFailed.value = journal.failed ?? lungJournal.failed;
    unsaved.value = new Set(unsaved.value).add(session.sliceId);
    revision.value++;
    clearTimeout(lungTimers.get(session.sliceId));
    lungTimers.set(
      session.sliceId,
      setTimeout(() => void saveLung(session), AUTOSAVE_DELAY_MS),
    );
  }
  const lungTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

  /**
   * Saves the session's lung as a new version of the lung-correction store: a lung equal to the
   * computed one (reset, or undone back to it) saves as "reset to computed", so the measurements use
   * the computed mask again; the history keeps every correction.
   */
  function saveLung(session: SliceSession): Promise<void> {
    lungTimers.delete(session.sliceId);
    const edit = session.lungEdit;
    const run = (edit.saving ?? Promise.resolve()).then(async () => {
      if (edit.conflict || edit.edits === edit.savedEdits) return;
      const edits = edit.edits;
      const datasetId = edit.datasetId;
      try {
        const computed = sameBytes(edit.lung, edit.computed);
        const saved =
          computed && edit.source === 'computed'
            ? null
            : computed
              ? unwrap(
                  await useApi().annotations.resetLung({
                    datasetId,
                    sliceId: session.sliceId,
                    baseVersion: edit.version,
                    // The reset button says so; strokes undone back to the computed lung name their tools.
                    tool: edit.tools.has('reset') ? 'reset to computed' : `${[...edit.tools].join('+') || 'undo'} (back to computed)`,
                  }),
                )
              : unwrap(await useApi().annotations.saveLung({ datasetId, sliceId: session.sliceId, baseVersion: edit.version, lung: encode(edit.lung), tool: [...edit.tools].join('+') || 'brush' }));
        if (saved) {
          edit.version = saved.version;
          edit.source = saved.source;
        }
        edit.savedEdits = edits;
        edit.tools.clear();
        if (edit.edits === edit.savedEdits) lungJournal.remove(datasetId, session.sliceId);
        if (edit.edits === edit.savedEdits && session.edits === session.savedEdits) {
          const next = new Set(unsaved.value);
          next.delete(session.sliceId);
          unsaved.value = next;
        }
        if (saved) edit.versions = unwrap(await useApi().annotations.lung({ datasetId, sliceId: session.sliceId })).history;
      } catch (e) {
        const message = (e as Error).message;
        if (/saved elsewhere/.test(message)) edit.conflict = message;
        else error.value = `saving the lung of ${session.sliceId} failed: ${message}`;
      }
      if (current.value === session) revision.value++;
    });
    edit.saving = run.finally(() => {
      if (edit.saving === guarded) edit.saving = null;
    });
    const guarded = edit.saving;
    return run;
  }

  /** Replaces the current slice's lung with `next` as one undo step of the lung target. */
  function replaceLung(next: Uint8Array, toolName: string) {
    const session = current.value;
    if (!session) return;
    const patch = diffLabels(session.lungEdit.lung, next);
    if (!patch) return;
    session.lungEdit.lung.set(next);
    session.lungEdit.history.push(patch);
    session.lungEdit.tools.add(toolName);
    markLungEdited(session);
  }

  /** "Reset to computed": the slice's lung becomes the computed mask again (one undo step; saved at once). */
  async function resetLungToComputed() {
    const session = current.value;
    if (!session) return;
    replaceLung(session.lungEdit.computed, 'reset');
    clearTimeout(lungTimers.get(session.sliceId));
    await saveLung(session);
  }

  /** "Add lesion to lung": lesion painted outside the lung joins the nearer lung (one undo step). */
  function addLesionToLungMask() {
    const session = current.value;
    if (!session) return;
    replaceLung(addLesionToLung(session.labels, session.lungEdit.lung, session.width, lungLabel() ?? 1), 'add-lesion');
  }

  /** Drops this session's unsaved lung edits and loads the correction the other window saved. */
  async function reloadLungAfterConflict() {
    const session = current.value;
    if (!session) return;
    const got = unwrap(await useApi().annotations.lung({ datasetId: session.lungEdit.datasetId, sliceId: session.sliceId }));
    Object.assign(session.lungEdit, { lung: decode(got.lung), version: got.version, source: got.source, versions: got.history, history: new LabelHistory(), conflict: null });
    session.lungEdit.savedEdits = session.lungEdit.edits;
    lungJournal.remove(session.lungEdit.datasetId, session.sliceId);
    if (session.edits === session.savedEdits) {
      const next = new Set(unsaved.value);
      next.delete(session.sliceId);
      unsaved.value = next;
    }
    revision.value++;
  }

  function undo() {
    const session = current.value;
    if (target.value === 'lung') {
      if (session?.lungEdit.history.undo(session.lungEdit.lung)) {
        session.lungEdit.tools.add('undo');
        markLungEdited(session);
      }
      return;
    }
    if (session?.history.undo(session.labels)) {
      session.tools.add('undo');
      markEdited(session);
    }
  }

  function redo() {
    const session = current.value;
    if (target.value === 'lung') {
      if (session?.lungEdit.history.redo(session.lungEdit.lung)) {
        session.lungEdit.tools.add('redo');
        markLungEdited(session);
      }
      return;
    }
    if (session?.history.redo(session.labels)) {
      session.tools.add('redo');
      markEdited(session);
    }
  }

  function scheduleSave(session: SliceSession) {
    clearTimeout(timers.get(session.sliceId));
    timers.set(
      session.sliceId,
      setTimeout(() => void save(session), AUTOSAVE_DELAY_MS),
    );
  }

  /** Saves now rather than after the autosave delay. */
  function saveNow(session: SliceSession): Promise<void> {
    clearTimeout(timers.get(session.sliceId));
    return save(session);
  }

  /** Saves the session's labels as a new version (after any save in flight), unless nothing changed since. */
  function save(session: SliceSession, statusOverride?: AnnotationStatus): Promise<void> {
    timers.delete(session.sliceId);
    const previous = session.saving ?? Promise.resolve();
    const run = previous.then(async () => {
      if (session.conflict) return;
      if (session.edits === session.savedEdits && !statusOverride) return;
      const edits = session.edits;
      const status = statusOverride ?? session.status;
      try {
        const saved = unwrap(
          await useApi().annotations.save({
            datasetId: datasets.datasetId!,
            sliceId: session.sliceId,
            baseVersion: session.version,
            labels: encode(session.labels),
            tool: [...session.tools].join('+') || 'review',
            source: session.source,
            status,
            ...(session.runId ? { runId: session.runId } : {}),
          }),
        );
        session.version = saved.version;
        session.status = saved.status;
        session.savedEdits = edits;
        session.tools.clear();
        session.source = 'manual';
        delete session.runId;
        states.value = new Map(states.value).set(session.sliceId, saved);
        if (session.edits === session.savedEdits && session.lungEdit.edits === session.lungEdit.savedEdits) {
          const next = new Set(unsaved.value);
          next.delete(session.sliceId);
          unsaved.value = next;
          journal.remove(datasets.datasetId!, session.sliceId);
        } else journalWrite(session);
        session.versions = unwrap(await useApi().annotations.get({ datasetId: datasets.datasetId!, sliceId: session.sliceId })).history;
        if (current.value === session) revision.value++;
      } catch (e) {
        const message = (e as Error).message;
        if (/saved elsewhere/.test(message)) session.conflict = message;
        else error.value = `saving ${session.sliceId} failed: ${message}`;
        if (current.value === session) revision.value++;
      }
    });
    session.saving = run.finally(() => {
      if (session.saving === guarded) session.saving = null;
    });
    const guarded = session.saving;
    return run;
  }

  /** Drops this session's unsaved edits and loads what the other window saved. */
  async function reloadAfterConflict() {
    const session = current.value;
    if (!session) return;
    sessions.delete(session.sliceId);
    const next = new Set(unsaved.value);
    next.delete(session.sliceId);
    unsaved.value = next;
    journal.remove(datasets.datasetId!, session.sliceId);
    settleConflict(session.sliceId);
    await open(session.sliceId);
  }

  /**
   * Keeps this session's edits after a conflict: saves them as a new version on top of the one the
   * other window saved (which stays in the history, so nothing is lost; revert brings it back).
   */
  async function keepMineAfterConflict() {
    const session = current.value;
    if (!session?.conflict) return;
    try {
      const latest = unwrap(await useApi().annotations.get({ datasetId: datasets.datasetId!, sliceId: session.sliceId }));
      session.version = latest.version;
      session.conflict = null;
      session.tools.add('keep-mine');
      await saveNow(session);
      if (!session.conflict) settleConflict(session.sliceId);
      await refreshStates();
    } catch (e) {
      error.value = (e as Error).message;
    }
    revision.value++;
  }

  function settleConflict(id: string) {
    recoveredConflicts.value = recoveredConflicts.value.filter((s) => s !== id);
  }

  async function markReviewed() {
    const session = current.value;
    if (!session) return;
    session.status = 'reviewed';
    await save(session, 'reviewed');
    await refreshStates();
  }

  async function revert(version: number) {
    const session = current.value;
    if (!session) return;
    await session.saving;
    unwrap(await useApi().annotations.revert({ datasetId: datasets.datasetId!, sliceId: session.sliceId, version, baseVersion: session.version }));
    sessions.delete(session.sliceId);
    journal.remove(datasets.datasetId!, session.sliceId);
    await open(session.sliceId);
    await refreshStates();
  }

  /** True while a prediction is on its way (a run's first one loads its model: seconds). */
  const loadingPrediction = ref(false);
  let predictionRequest = 0;
  async function loadPrediction() {
    const id = sliceId.value;
    if (!runId.value || !id || !datasets.datasetId) {
      prediction.value = null;
      return;
    }
    const mine = ++predictionRequest;
    loadingPrediction.value = true;
    try {
      const run = runId.value;
      const got = unwrap(await useApi().annotations.prediction({ runId: run, datasetId: datasets.datasetId, sliceId: id }));
      if (sliceId.value !== id || runId.value !== run) return;
      prediction.value = { sliceId: id, runId: run, probability: decode(got.probability), lesionClass: decode(got.lesionClass), classes: got.classes };
      revision.value++;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      if (mine === predictionRequest) loadingPrediction.value = false;
    }
  }

  /** The label map the prediction gives at the current threshold (a lesion-only run paints the selected label). */
  function predictedLabels(): Uint8Array | null {
    const p = prediction.value;
    if (!p || p.sliceId !== sliceId.value || p.runId !== runId.value) return null;
    return thresholdPrediction(p, predictionThreshold.value, label.value);
  }

  /** "Start from prediction": the thresholded prediction replaces the label (one undo step). */
  function acceptPrediction() {
    const session = current.value;
    const predicted = predictedLabels();
    if (!session || !predicted) return;
    const patch = diffLabels(session.labels, predicted);
    if (patch) {
      session.labels.set(predicted);
      session.history.push(patch);
    }
    session.source = 'prediction';
    session.status = 'predicted';
    if (runId.value) session.runId = runId.value;
    session.tools.add(`prediction@${predictionThreshold.value.toFixed(2)}`);
    markEdited(session);
  }

  async function loadQueue() {
    if (!runId.value || !datasets.datasetId) return;
    busy.value = 'ranking slices by the model…';
    try {
      queue.value = unwrap(await useApi().annotations.queue({ runId: runId.value, datasetId: datasets.datasetId, order: queueOrder.value }));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = null;
    }
  }

  /** Goes to the first slice of the queue that still needs review, other than this one. */
  function nextInQueue() {
    const next = queue.value.find((q) => q.sliceId !== sliceId.value && states.value.get(q.sliceId)?.status !== 'reviewed');
    if (next) void open(next.sliceId);
  }

  /** Saves everything pending now (before export or leaving). */
  async function flush() {
    for (const [id, timer] of timers) {
      clearTimeout(timer);
      const session = sessions.get(id);
      if (session) void save(session);
    }
    for (const [id, timer] of lungTimers) {
      clearTimeout(timer);
      const session = sessions.get(id);
      if (session) void saveLung(session);
    }
    await Promise.all([...sessions.values()].flatMap((s) => [s.saving, s.lungEdit.saving]));
  }

  async function exportCorrected() {
    await flush();
    busy.value = 'exporting…';
    try {
      lastExport.value = unwrap(await useApi().annotations.export({ datasetId: datasets.datasetId! }));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = null;
    }
  }

  /**
   * Exports the corrected slices as a new dataset version and trains on it: fine-tuning the run
   * whose predictions are shown (its model, classes and size; it becomes the new run's parent), or a
   * three-class model from scratch.
   */
  async function retrain(options: { epochs: number; size: number; from: 'current' | 'scratch' }) {
    const parent = options.from === 'current' ? runId.value : null;
    if (options.from === 'current' && !parent) {
      error.value = 'choose the run to fine-tune under Model assistance, or retrain from scratch';
      return;
    }
    await exportCorrected();
    if (!lastExport.value) return;
    busy.value = 'starting training…';
    try {
      // Few corrected slices: all of them train (a validation split could take the only patient).
      const val = lastExport.value.slices < 8 ? 0 : 0.25;
      let settings: Omit<TrainRequest, 'datasetId'> = { classes: 'ggo-consolidation', size: options.size };
      if (parent) {
        const config = unwrap(await useApi().runs.get({ runId: parent })).config as {
          classes?: 'lesion' | 'ggo-consolidation';
          size: number;
          model: { name: 'unet' | 'segformer'; options: { depth?: number; baseFilters?: number; variant?: 'b0' | 'b1' } };
        };
        const o = config.model.options;
        settings = {
          classes: config.classes ?? 'lesion',
          size: config.size,
          model: config.model.name,
          ...(o.depth !== undefined ? { depth: o.depth } : {}),
          ...(o.baseFilters !== undefined ? { baseFilters: o.baseFilters } : {}),
          ...(o.variant !== undefined ? { variant: o.variant } : {}),
          initFromRun: parent,
        };
      }
      const opened = unwrap(await useApi().datasets.open({ path: lastExport.value.out }));
      const launch = unwrap(await useApi().training.start({ datasetId: opened.id, ...settings, epochs: options.epochs, val, test: 0 }));
      retrainRunId.value = launch.runId;
      await useTrainingStore().refresh();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = null;
    }
  }

  // When the retraining run completes, its predictions become the ones shown.
  watch(
    () => useTrainingStore().runs.find((r) => r.runId === retrainRunId.value)?.state,
    (state) => {
      if (state === 'completed' && retrainRunId.value) {
        runId.value = retrainRunId.value;
        retrainRunId.value = null;
      }
    },
  );
  watch(runId, () => {
    // A ranking belongs to the run that made it.
    queue.value = [];
    void loadPrediction();
  });

  async function start() {
    if (!datasets.datasetId) return;
    await refreshStates();
    try {
      orientation.value = unwrap(await useApi().datasets.getOrientation({ datasetId: datasets.datasetId }));
    } catch {
      orientation.value = { ...IDENTITY_ORIENTATION };
    }
    if (!sliceId.value || !sliceIds.value.includes(sliceId.value)) {
      const fromUrl = new URLSearchParams(globalThis.location?.search ?? '').get('slice');
      const first = fromUrl && sliceIds.value.includes(fromUrl) ? fromUrl : sliceIds.value[0];
      if (first) await open(first);
    }
    await replayJournal();
  }

  watch(
    () => datasets.datasetId,
    () => {
      sessions.clear();
      current.value = null;
      sliceId.value = null;
      void start();
    },
  );

  return {
    current,
    revision,
    sliceId,
    sliceIds,
    index,
    states,
    tool,
    label,
    target,
    lungSide,
    showLung,
    orientation,
    lungLabel,
    resetLungToComputed,
    addLesionToLungMask,
    reloadLungAfterConflict,
    brushSize,
    threshold,
    opacity,
    outline,
    huWindow,
    error,
    unsaved,
    runId,
    prediction,
    loadingPrediction,
    predictionThreshold,
    previewPrediction,
    queue,
    queueOrder,
    busy,
    lastExport,
    retrainRunId,
    recovered,
    recoveredConflicts,
    journalFailed,
    /** False where the browser has no localStorage: unsaved edits are then safe only once saved. */
    journalAvailable: journal.available,
    start,
    open,
    step,
    commitStroke,
    undo,
    redo,
    save,
    flush,
    markReviewed,
    revert,
    reloadAfterConflict,
    keepMineAfterConflict,
    predictedLabels,
    acceptPrediction,
    loadQueue,
    nextInQueue,
    exportCorrected,
    retrain,
  };
});
