import { openDataset } from '../datasets/open-dataset';
import type { Dataset } from '../datasets/types';
import { prepareSlices } from '../training/slice-cache';

/** One training example of a GAN: image bytes and its class map (0 background, 1..planes), `[size, size]`. */
export interface GanSample {
  id: string;
  image: Uint8Array;
  classMap: Uint8Array;
}

/** Loads slices as GAN samples: class maps from labels/ when `planes` is 2, else the 0/1 lesion mask. */
export async function loadGanSamples(dataset: Dataset, ids: readonly string[], size: number, planes: number, idPrefix = ''): Promise<GanSample[]> {
  const prepared = await prepareSlices(dataset, ids, size, { withLabels: planes === 2 });
  return prepared.ids.map((id, k) => ({ id: `${idPrefix}${id}`, image: prepared.images[k]!, classMap: planes === 2 ? prepared.labels![k]! : prepared.masks[k]! }));
}

export async function loadPairsSamples(pairsDir: string, ids: readonly string[], size: number, planes: number): Promise<GanSample[]> {
  return loadGanSamples(await openDataset(pairsDir), ids, size, planes, `${pairsDir}:`);
}

/** Condition planes `[s, s, planes]` (channels last) of a class map: plane c is 1 where the class is c + 1. */
export function conditionPlanes(classMap: Uint8Array, planes: number, out: Float32Array<ArrayBufferLike> = new Float32Array(classMap.length * planes), at = 0): Float32Array<ArrayBufferLike> {
  for (let i = 0; i < classMap.length; i++) {
    const c = classMap[i]!;
    if (c > 0 && c <= planes) out[at + i * planes + c - 1] = 1;
  }
  return out;
}

/** Image bytes to -1..1 (the generator's tanh range). */
export function imageToUnit(image: Uint8Array, out: Float32Array<ArrayBufferLike> = new Float32Array(image.length), at = 0): Float32Array<ArrayBufferLike> {
  for (let i = 0; i < image.length; i++) out[at + i] = image[i]! / 127.5 - 1;
  return out;
}

/** -1..1 back to bytes. */
export function unitToImage(values: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5))));
}
