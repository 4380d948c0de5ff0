import type { AnnotationSource, AnnotationStatus } from '../../../../src-shared/contract';

/**
 * A slice's edits not yet saved, as the journal keeps them: enough to redo the save after the tab
 * was killed or reloaded (labels whole, run-length coded, and the version they build on).
 */
export interface JournalEntry {
  datasetId: string;
  sliceId: string;
  /** The saved version the edits start from: a replay saves against it, so a newer save elsewhere is never overwritten. */
  baseVersion: number;
  width: number;
  height: number;
  /** Run-length coded label bytes ({@link encodeRuns}). */
  runs: string;
  status: AnnotationStatus;
  source: AnnotationSource;
  runId?: string;
  tools: string[];
  /** The tab that wrote it (a tab still alive saves its own edits; only dead tabs' entries are replayed). */
  tab: string;
  writtenAt: number;
}

const PREFIX = 'covseg.annotate.pending\n';
/** The lung-mask corrections' journal (the same entries, the lung map in `runs`). */
export const LUNG_JOURNAL_PREFIX = 'covseg.annotate.lung-pending\n';
const TAB_LOCK = 'covseg.annotate.tab:';

/**
 * Label bytes as runs, `VALUE` then the run length in base 36, comma separated: a label map is
 * mostly background, so a 512x512 slice with a few lesions takes a few hundred characters.
 */
export function encodeRuns(labels: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  while (i < labels.length) {
    const value = labels[i]!;
    let j = i + 1;
    while (j < labels.length && labels[j] === value) j++;
    parts.push(`${value}${(j - i).toString(36)}`);
    i = j;
  }
  return parts.join(',');
}

/** The inverse of {@link encodeRuns}; null when the text does not describe exactly `length` bytes of 0/1/2. */
export function decodeRuns(text: string, length: number): Uint8Array | null {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of text === '' ? [] : text.split(',')) {
    const value = Number(part[0]);
    const count = parseInt(part.slice(1), 36);
    if (!(value >= 0 && value <= 2) || !Number.isInteger(count) || count < 1 || at + count > length) return null;
    out.fill(value, at, at + count);
    at += count;
  }
  return at === length ? out : null;
}

/**
 * The journal of unsaved edits in the browser's localStorage, written synchronously on every
 * stroke: the tab's storage lives in the browser process, so a stroke survives the tab being killed
 * before its autosave (0.6 s later) — which would otherwise lose it. Each tab holds a Web Lock for
 * its lifetime; entries of a tab whose lock is gone (closed, crashed, reloaded) are the ones to replay.
 */
export class EditJournal {
  readonly tab = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  /** Set when the browser refused a write (storage full or disabled): the view says edits are not journaled. */
  failed: string | null = null;

  constructor(
    private readonly storage: Storage | undefined = globalThis.localStorage,
    /** Key prefix: lesion labels by default, {@link LUNG_JOURNAL_PREFIX} for lung corrections. */
    private readonly prefix = PREFIX,
  ) {
    // Held until the tab goes away; released by the browser when the tab crashes too.
    void globalThis.navigator?.locks?.request(`${TAB_LOCK}${this.tab}`, () => new Promise<void>(() => {}));
  }

  private keyOf(datasetId: string, sliceId: string): string {
    return `${this.prefix}${datasetId}\n${sliceId}`;
  }

  get available(): boolean {
    return this.storage !== undefined;
  }

  write(entry: Omit<JournalEntry, 'tab' | 'writtenAt'>): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(this.keyOf(entry.datasetId, entry.sliceId), JSON.stringify({ ...entry, tab: this.tab, writtenAt: Date.now() }));
      this.failed = null;
    } catch (error) {
      this.failed = (error as Error).message;
    }
  }

  remove(datasetId: string, sliceId: string): void {
    this.storage?.removeItem(this.keyOf(datasetId, sliceId));
  }

  /** Entries of a dataset left by tabs that are gone: edits to save again. */
  async orphans(datasetId: string): Promise<JournalEntry[]> {
    if (!this.storage) return [];
    const held = new Set(((await globalThis.navigator?.locks?.query())?.held ?? []).map((lock) => lock.name));
    const found: JournalEntry[] = [];
    for (let k = 0; k < this.storage.length; k++) {
      const key = this.storage.key(k);
      if (!key?.startsWith(`${this.prefix}${datasetId}\n`)) continue;
      try {
        const entry = JSON.parse(this.storage.getItem(key)!) as JournalEntry;
        if (entry.tab !== this.tab && !held.has(`${TAB_LOCK}${entry.tab}`)) found.push(entry);
      } catch {
        // A damaged entry cannot be replayed; left for the person to see in devtools rather than guessed at.
      }
    }
    return found.sort((a, b) => a.writtenAt - b.writtenAt);
  }
}
