import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AnnotationSliceState, AnnotationSource, AnnotationStatus, AnnotationVersion } from '../../../src-shared/contract/annotations';
import { jsonText, writeFileAtomic } from '../files/atomic-write';
import { diskFullError, isDiskFull } from '../files/disk-full';
import { CovsegError } from '../errors';

/** A saved version as stored on disk: the history entry plus the slice and the label's size. */
export interface StoredVersion extends AnnotationVersion {
  sliceId: string;
  width: number;
  height: number;
}

/** A label map in source pixel coordinates: row-major `[height, width]`, 0/1/2. */
export interface LabelMap {
  width: number;
  height: number;
  labels: Uint8Array;
}

export interface SaveInfo {
  tool: string;
  source: AnnotationSource;
  status: AnnotationStatus;
  runId?: string;
  author?: string;
}

const VERSION_FILE = /^(\d{6,})\.json$/;
const STORE_FILE = 'store.json';

export const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** The store folder of one dataset inside a workspace: `annotations/NAME-HASH`, HASH of the dataset's absolute path. */
export function annotationStoreDir(workspace: string, datasetRoot: string): string {
  const root = resolve(datasetRoot);
  const name = basename(root).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'dataset';
  return join(resolve(workspace), 'annotations', `${name}-${sha256(root).slice(0, 12)}`);
}

/** A slice id as one folder name, reversibly (`vol:z012` -> `vol%3Az012`). */
export function sliceFolderName(sliceId: string): string {
  return encodeURIComponent(sliceId).replace(/[!'()*.~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Creates `file` with `data` only when it does not exist yet, never half-written: temp file, fsync, hard link. */
async function createExclusive(file: string, data: string | Uint8Array): Promise<boolean> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // link() fails with EEXIST when another writer got there first: the version check across
    // windows and processes, without a lock to go stale.
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    if (isDiskFull(error)) throw diskFullError(file, error);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The annotation store of one dataset in a workspace (never in the dataset): every saved version of
 * every slice's label map, content-addressed blobs (`blobs/SHA.u8.gz`, raw bytes gzipped) and one
 * history entry per version (`slices/SLICE/000001.json`). A version is committed when its entry
 * exists; the entry is created last and exclusively, so a kill leaves either the whole version or
 * none of it, and two writers starting from the same version cannot both win.
 */
export class AnnotationStore {
  private constructor(
    readonly dir: string,
    readonly root: string,
  ) {}

  /**
   * Opens (creating on first use) the store of `datasetRoot` in `workspace`; `subfolder` names a
   * second store of the same dataset inside it (the lung-mask corrections, `lung-mask`).
   */
  static async open(workspace: string, datasetRoot: string, subfolder?: string): Promise<AnnotationStore> {
    const dir = subfolder ? join(annotationStoreDir(workspace, datasetRoot), subfolder) : annotationStoreDir(workspace, datasetRoot);
    const root = resolve(datasetRoot);
    try {
      const existing = JSON.parse(await readFile(join(dir, STORE_FILE), 'utf8')) as { root?: string };
      if (existing.root !== root) {
        throw new CovsegError('bad-layout', `the annotation store ${dir} belongs to ${existing.root}, not ${root}`, { file: join(dir, STORE_FILE), fix: 'move that folder away' });
      }
    } catch (error) {
      if (error instanceof CovsegError) throw error;
      await writeFileAtomic(join(dir, STORE_FILE), jsonText({ root, createdAt: new Date().toISOString() }));
    }
    return new AnnotationStore(dir, root);
  }

  /** Opens an existing store folder (for export from a workspace). */
  static async openDir(dir: string): Promise<AnnotationStore> {
    const file = join(dir, STORE_FILE);
    let root: string | undefined;
    try {
      root = (JSON.parse(await readFile(file, 'utf8')) as { root?: string }).root;
    } catch (error) {
      throw new CovsegError('corrupt-file', `cannot read the annotation store (${(error as Error).message})`, { file, fix: 'the folder is not an annotation store; remove it if it is left over' });
    }
    if (typeof root !== 'string') throw new CovsegError('corrupt-file', 'annotation store names no dataset', { file, fix: 'remove the folder if it is left over' });
    return new AnnotationStore(dir, root);
  }

  private sliceDir(sliceId: string): string {
    return join(this.dir, 'slices', sliceFolderName(sliceId));
  }

  private blobFile(hash: string): string {
    return join(this.dir, 'blobs', `${hash}.u8.gz`);
  }

  /** Slice ids that have at least one saved version. */
  async slicesWithVersions(): Promise<string[]> {
    const names = await readdir(join(this.dir, 'slices')).catch(() => [] as string[]);
    const ids: string[] = [];
    for (const name of names.sort()) {
      const history = await this.history(decodeURIComponent(name));
      if (history.length > 0) ids.push(history[0]!.sliceId);
    }
    return ids;
  }

  /** Every committed version of a slice, oldest first. Entries that cannot be read are left out. */
  async history(sliceId: string): Promise<StoredVersion[]> {
    const dir = this.sliceDir(sliceId);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => VERSION_FILE.test(n));
    const versions: StoredVersion[] = [];
    for (const name of names) {
      try {
        const entry = JSON.parse(await readFile(join(dir, name), 'utf8')) as StoredVersion;
        if (entry.sliceId === sliceId && entry.version === Number(VERSION_FILE.exec(name)![1])) versions.push(entry);
      } catch {
        // Entries are created whole (temp + link), so this is damage from outside: skip it, keep the rest.
      }
    }
    return versions.sort((a, b) => a.version - b.version);
  }

  /** The label bytes of a version, checked against its hash. */
  async read(entry: StoredVersion): Promise<LabelMap> {
    const file = this.blobFile(entry.sha256);
    let labels: Uint8Array;
    try {
      labels = new Uint8Array(gunzipSync(await readFile(file)));
    } catch (error) {
      throw new CovsegError('corrupt-file', `cannot read version ${entry.version} of ${entry.sliceId} (${(error as Error).message})`, { file, fix: 'revert to another version' });
    }
    if (labels.length !== entry.width * entry.height || sha256(labels) !== entry.sha256) {
      throw new CovsegError('corrupt-file', `version ${entry.version} of ${entry.sliceId} does not match its hash`, { file, fix: 'revert to another version' });
    }
    return { width: entry.width, height: entry.height, labels };
  }

  /** The newest readable version of a slice, or undefined when none was saved. */
  async current(sliceId: string): Promise<{ entry: StoredVersion; label: LabelMap; history: StoredVersion[] } | undefined> {
    const history = await this.history(sliceId);
    for (let k = history.length - 1; k >= 0; k--) {
      try {
        return { entry: history[k]!, label: await this.read(history[k]!), history };
      } catch {
        // A damaged blob: fall back to the version before it.
      }
    }
    return undefined;
  }

  /** The slice's state (version 0 and `unlabelled` when nothing was saved). */
  async state(sliceId: string): Promise<AnnotationSliceState> {
    const history = await this.history(sliceId);
    const last = history.at(-1);
    return last ? { sliceId, status: last.status, version: last.version, savedAt: last.savedAt } : { sliceId, status: 'unlabelled', version: 0 };
  }

  /**
   * Saves `label` as the next version after `baseVersion`. Fails with `busy` when the slice has moved
   * on since (another window saved): the caller reloads instead of overwriting that edit.
   */
  async save(sliceId: string, label: LabelMap, baseVersion: number, info: SaveInfo): Promise<StoredVersion> {
    if (label.labels.length !== label.width * label.height) throw new CovsegError('size-mismatch', `label of ${sliceId} has ${label.labels.length} bytes for ${label.width}x${label.height}`);
    for (const v of label.labels) if (v > 2) throw new CovsegError('bad-parameter', `label of ${sliceId} has value ${v}; only 0, 1 and 2 are labels`);
    const history = await this.history(sliceId);
    const latest = history.at(-1)?.version ?? 0;
    const conflict = () =>
      new CovsegError('busy', `slice ${sliceId} was saved elsewhere (version ${Math.max(latest, baseVersion + 1)}) after this edit started from version ${baseVersion}`, {
        file: this.sliceDir(sliceId),
        fix: 'reload the slice to see the other edit, then repeat yours',
      });
    if (latest !== baseVersion) throw conflict();
    const hash = sha256(label.labels);
    const blob = this.blobFile(hash);
    await mkdir(join(this.dir, 'blobs'), { recursive: true });
    // Content-addressed: an existing blob already holds these bytes (checked on read).
    await createExclusive(blob, gzipSync(label.labels, { level: 6 }));
    let ground = 0;
    let consolidation = 0;
    for (const v of label.labels) {
      if (v === 1) ground++;
      else if (v === 2) consolidation++;
    }
    const entry: StoredVersion = {
      sliceId,
      width: label.width,
      height: label.height,
      version: baseVersion + 1,
      savedAt: new Date().toISOString(),
      author: info.author ?? userInfo().username,
      tool: info.tool,
      source: info.source,
      status: info.status,
      ...(info.runId ? { runId: info.runId } : {}),
      sha256: hash,
      counts: [ground, consolidation],
    };
    const dir = this.sliceDir(sliceId);
    await mkdir(dir, { recursive: true });
    if (!(await createExclusive(join(dir, `${String(entry.version).padStart(6, '0')}.json`), jsonText(entry)))) throw conflict();
    return entry;
  }

  /** Makes `version` current again by saving its bytes as a new version (the history keeps everything). */
  async revert(sliceId: string, version: number, baseVersion: number, author?: string): Promise<StoredVersion> {
    const entry = (await this.history(sliceId)).find((v) => v.version === version);
    if (!entry) throw new CovsegError('not-found', `slice ${sliceId} has no version ${version}`, { file: this.sliceDir(sliceId) });
    return this.save(sliceId, await this.read(entry), baseVersion, { tool: `revert to ${version}`, source: 'revert', status: entry.status, ...(author ? { author } : {}) });
  }
}

/** Every annotation store folder of a workspace. */
export async function listAnnotationStores(workspace: string): Promise<AnnotationStore[]> {
  const base = join(resolve(workspace), 'annotations');
  const stores: AnnotationStore[] = [];
  for (const name of (await readdir(base).catch(() => [] as string[])).sort()) {
    try {
      stores.push(await AnnotationStore.openDir(join(base, name)));
    } catch {
      // Not a store (a stray folder): export names the stores it found.
    }
  }
  return stores;
}
