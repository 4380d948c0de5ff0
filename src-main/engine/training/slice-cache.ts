import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mapWithLimit } from '../concurrency/map-with-limit';
import type { Dataset, SliceRef } from '../datasets/types';
import { writeFileAtomic } from '../files/atomic-write';

const CACHE_VERSION = 1;

/** Decoded, resized slices held in memory for a run: `images[k]` and `masks[k]` are `[size, size]`. */
export interface PreparedSlices {
  ids: string[];
  size: number;
  images: Uint8Array[];
  /** 0/1 lesion masks. */
  masks: Uint8Array[];
}

/** Cache folder: `COVSEG_CACHE_DIR`, else `~/.cache/covseg/slices`. */
export function defaultCacheDir(): string {
  return process.env.COVSEG_CACHE_DIR ?? join(homedir(), '.cache', 'covseg', 'slices');
}

async function cacheKey(ref: SliceRef, size: number): Promise<string> {
  const hash = createHash('sha256').update(`v${CACHE_VERSION}:${size}:`);
  if (ref.source.kind === 'png') {
    // Content, not path or time: a copied dataset reuses the cache, an edited mask does not.
    hash.update(await readFile(ref.source.frame)).update(await readFile(ref.source.mask));
  } else {
    const image = await stat(ref.source.image);
    const label = await stat(ref.source.label);
    hash.update(`${ref.source.image}:${image.size}:${image.mtimeMs}:${ref.source.label}:${label.size}:${label.mtimeMs}:${ref.source.z}`);
  }
  return hash.digest('hex');
}

/**
 * Loads slices resized to `size` x `size`, from the disk cache (keyed by content hash and size) when
 * present, else by decoding and resizing with sharp and filling the cache.
 */
export async function prepareSlices(
  dataset: Dataset,
  ids: readonly string[],
  size: number,
  options: { cacheDir?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<PreparedSlices> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const byId = new Map(dataset.slices.map((s) => [s.id, s]));
  let done = 0;
  const loaded = await mapWithLimit(ids, 4, async (id) => {
    const ref = byId.get(id);
    if (!ref) throw new Error(`slice ${id} is not in the dataset ${dataset.root}`);
    const file = join(cacheDir, `${await cacheKey(ref, size)}.bin`);
    let image: Uint8Array;
    let mask: Uint8Array;
    try {
      const bytes = await readFile(file);
      if (bytes.byteLength !== 2 * size * size) throw new Error('stale cache entry');
      image = new Uint8Array(bytes.buffer, bytes.byteOffset, size * size);
      mask = new Uint8Array(bytes.buffer, bytes.byteOffset + size * size, size * size);
    } catch {
      const slice = await dataset.load(ref, { size });
      image = slice.image;
      mask = slice.mask;
      const bytes = new Uint8Array(2 * size * size);
      bytes.set(image, 0);
      bytes.set(mask, size * size);
      await writeFileAtomic(file, bytes);
    }
    options.onProgress?.(++done, ids.length);
    return { image, mask };
  });
  return { ids: [...ids], size, images: loaded.map((l) => l.image), masks: loaded.map((l) => l.mask) };
}

/** Input batch `[n, size, size, 1]` scaled to 0..1, and target batch of the same shape (0/1). */
export function batchArrays(slices: PreparedSlices, indices: readonly number[]): { x: Float32Array; y: Float32Array } {
  const plane = slices.size * slices.size;
  const x = new Float32Array(indices.length * plane);
  const y = new Float32Array(indices.length * plane);
  indices.forEach((index, b) => {
    const image = slices.images[index]!;
    const mask = slices.masks[index]!;
    const offset = b * plane;
    for (let i = 0; i < plane; i++) {
      x[offset + i] = image[i]! / 255;
      y[offset + i] = mask[i]!;
    }
  });
  return { x, y };
}
