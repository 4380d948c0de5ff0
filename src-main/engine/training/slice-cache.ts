import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mapWithLimit } from '../concurrency/map-with-limit';
import type { Dataset, SliceRef } from '../datasets/types';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';

const CACHE_VERSION = 1;

/** Decoded, resized slices held in memory for a run: `images[k]` and `masks[k]` are `[size, size]`. */
export interface PreparedSlices {
  ids: string[];
  size: number;
  images: Uint8Array[];
  /** 0/1 lesion masks. */
  masks: Uint8Array[];
  /** Class maps (0 background, 1 ground-glass, 2 consolidation), for three-class runs only. */
  labels?: Uint8Array[];
}

/** Target channels of a batch: one-hot over three classes when class maps were prepared, else one 0/1 channel. */
export function targetChannels(slices: Pick<PreparedSlices, 'labels'>): number {
  return slices.labels ? 3 : 1;
}

/** Cache folder: `COVSEG_CACHE_DIR`, else `~/.cache/covseg/slices`. */
export function defaultCacheDir(): string {
  return process.env.COVSEG_CACHE_DIR ?? join(homedir(), '.cache', 'covseg', 'slices');
}

async function cacheKey(ref: SliceRef, size: number, withLabels: boolean): Promise<string> {
  const hash = createHash('sha256').update(`v${CACHE_VERSION}:${size}:${withLabels ? 'labels:' : ''}`);
  if (ref.source.kind === 'png') {
    // Content, not path or time: a copied dataset reuses the cache, an edited mask does not.
    hash.update(await readFile(ref.source.frame)).update(await readFile(ref.source.mask));
    if (withLabels && ref.source.labels) hash.update(await readFile(ref.source.labels));
  } else {
    const image = await stat(ref.source.image);
    const label = await stat(ref.source.label);
    hash.update(`${ref.source.image}:${image.size}:${image.mtimeMs}:${ref.source.label}:${label.size}:${label.mtimeMs}:${ref.source.z}`);
  }
  return hash.digest('hex');
}

/**
 * Loads slices resized to `size` x `size`, from the disk cache (keyed by content hash and size) when
 * present, else by decoding and resizing with sharp and filling the cache. `withLabels` also loads
 * the class maps (nearest) and fails, naming the slice, when one has none.
 */
export async function prepareSlices(
  dataset: Dataset,
  ids: readonly string[],
  size: number,
  options: { cacheDir?: string; onProgress?: (done: number, total: number) => void; withLabels?: boolean } = {},
): Promise<PreparedSlices> {
  const withLabels = options.withLabels ?? false;
  const planes = withLabels ? 3 : 2;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const byId = new Map(dataset.slices.map((s) => [s.id, s]));
  let done = 0;
  const loaded = await mapWithLimit(ids, 4, async (id) => {
    const ref = byId.get(id);
    if (!ref) throw new Error(`slice ${id} is not in the dataset ${dataset.root}`);
    const file = join(cacheDir, `${await cacheKey(ref, size, withLabels)}.bin`);
    const plane = size * size;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
      if (bytes.byteLength !== planes * plane) throw new Error('stale cache entry');
    } catch {
      const slice = await dataset.load(ref, { size });
      if (withLabels && !slice.labels) throw missingClassMap(ref);
      bytes = new Uint8Array(planes * plane);
      bytes.set(slice.image, 0);
      bytes.set(slice.mask, plane);
      if (withLabels) bytes.set(slice.labels!, 2 * plane);
      await writeFileAtomic(file, bytes);
    }
    options.onProgress?.(++done, ids.length);
    const at = (k: number) => new Uint8Array(bytes.buffer, bytes.byteOffset + k * plane, plane);
    return { image: at(0), mask: at(1), labels: withLabels ? at(2) : undefined };
  });
  const prepared: PreparedSlices = { ids: [...ids], size, images: loaded.map((l) => l.image), masks: loaded.map((l) => l.mask) };
  if (withLabels) prepared.labels = loaded.map((l) => l.labels!);
  return prepared;
}

/** The error for a three-class run on a slice without a class map: which file, and the fix. */
export function missingClassMap(ref: SliceRef): CovsegError {
  const file = ref.source.kind === 'png' ? ref.source.mask : ref.source.label;
  return new CovsegError('bad-layout', `slice ${ref.id} has no class map (ground-glass/consolidation), which --classes ggo-consolidation needs`, {
    file,
    fix: 'add labels/NAME.png class maps (0 background, 1 ground-glass, 2 consolidation) beside masks/, or train with --classes lesion',
  });
}

/**
 * Input batch `[n, size, size, 1]` scaled to 0..1, and target batch `[n, size, size, C]`: the 0/1
 * mask (C = 1), or the class maps one-hot (C = 3) for three-class slices.
 */
export function batchArrays(slices: PreparedSlices, indices: readonly number[]): { x: Float32Array; y: Float32Array } {
  const plane = slices.size * slices.size;
  const channels = targetChannels(slices);
  const x = new Float32Array(indices.length * plane);
  const y = new Float32Array(indices.length * plane * channels);
  indices.forEach((index, b) => {
    const image = slices.images[index]!;
    const offset = b * plane;
    for (let i = 0; i < plane; i++) x[offset + i] = image[i]! / 255;
    if (slices.labels) {
      const labels = slices.labels[index]!;
      for (let i = 0; i < plane; i++) y[(offset + i) * channels + labels[i]!] = 1;
    } else y.set(slices.masks[index]!, offset);
  });
  return { x, y };
}
