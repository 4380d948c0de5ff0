import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AnnotationStore, annotationStoreDir, type LabelMap, type StoredVersion } from './annotation-store';

/** Where a slice's lung mask comes from: the CT (engine/imaging/lung-mask.ts) or a person's correction. */
export type LungSource = 'computed' | 'corrected';

/** The folder of a dataset's lung corrections: beside its lesion labels, in the workspace, never in the dataset. */
export function lungCorrectionsDir(workspace: string, datasetRoot: string): string {
  return join(annotationStoreDir(workspace, datasetRoot), 'lung-mask');
}

/** A slice's lung as it stands: the correction saved last, or none (the computed mask applies). */
export interface LungState {
  source: LungSource;
  /** The store's newest version (0 when nothing was ever saved; a reset is a version too). */
  version: number;
  /** Present when `source` is `corrected`: 0 outside, 1 and 2 the two lungs, in source pixel coordinates. */
  lung?: LabelMap;
  history: StoredVersion[];
}

/**
 * The lung-mask corrections of one dataset: an annotation store of its own (`annotations/NAME-HASH/lung-mask/`),
 * so every version is kept, written atomically and checked against the version the edit started
 * from, exactly as lesion labels are. A version with status `corrected` is a person's lung map
 * (0 outside, 1 and 2 the two lungs, as the computed mask numbers them); "reset to computed" saves
 * the computed map with status `unlabelled`, after which the computed mask applies again.
 */
export class LungCorrections {
  private constructor(private readonly store: AnnotationStore | undefined) {}

  /** Opens (creating on first use) the corrections of `datasetRoot` in `workspace`. */
  static async open(workspace: string, datasetRoot: string): Promise<LungCorrections> {
    return new LungCorrections(await AnnotationStore.open(workspace, datasetRoot, 'lung-mask'));
  }

  /** Reads the corrections without creating anything (the CLI measures from a workspace as it is). */
  static async read(workspace: string, datasetRoot: string): Promise<LungCorrections> {
    const dir = lungCorrectionsDir(workspace, datasetRoot);
    if (!(await stat(dir).catch(() => undefined))) return new LungCorrections(undefined);
    return new LungCorrections(await AnnotationStore.openDir(dir));
  }

  /** The slice's lung state; a damaged newest version falls back to the one before (AnnotationStore.current). */
  async state(sliceId: string): Promise<LungState> {
    const current = await this.store?.current(sliceId);
    if (!current) return { source: 'computed', version: 0, history: [] };
    const version = current.history.at(-1)!.version;
    if (current.entry.status !== 'corrected') return { source: 'computed', version, history: current.history };
    return { source: 'corrected', version, lung: current.label, history: current.history };
  }

  /** The corrected lung of a slice, or undefined where the computed mask applies. */
  async corrected(sliceId: string): Promise<Uint8Array | undefined> {
    const state = await this.state(sliceId);
    return state.lung?.labels;
  }

  private writable(): AnnotationStore {
    if (!this.store) throw new Error('lung corrections opened read-only');
    return this.store;
  }

  /** Saves a person's lung map as the next version after `baseVersion` (`busy` when another window saved since). */
  async save(sliceId: string, lung: LabelMap, baseVersion: number, tool: string, author?: string): Promise<StoredVersion> {
    return this.writable().save(sliceId, lung, baseVersion, { tool, source: 'manual', status: 'corrected', ...(author ? { author } : {}) });
  }

  /** Goes back to the computed mask: saves it as the next version with status `unlabelled` (the history keeps the correction). */
  async reset(sliceId: string, computed: LabelMap, baseVersion: number, author?: string, tool = 'reset to computed'): Promise<StoredVersion> {
    return this.writable().save(sliceId, computed, baseVersion, { tool, source: 'revert', status: 'unlabelled', ...(author ? { author } : {}) });
  }
}
