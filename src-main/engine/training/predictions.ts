import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../files/atomic-write';
import { decideClasses } from '../imaging/resize-probabilities';
import { encodeGrayPng } from '../imaging/png-io';
import { inferenceCopy, type ModelSpec } from '../models/registry';
import { predictProbabilities } from './evaluate';
import type { PreparedSlices } from './slice-cache';

/**
 * PNG pixel values of a predicted class map: lesion masks as 0/255 (as `masks/`), three-class maps
 * as 0/1/2 (as `labels/`, so a prediction folder reads back as class maps).
 */
export function classMapPixels(classMap: Uint8Array, channels: number): Uint8Array {
  return channels === 1 ? classMap.map((v) => v * 255) : classMap;
}

/** Writes the predicted mask or class map per slice (`NAME.png`, NIfTI `vol:z012` as `vol_z012.png`) into `dir`, at the model's size. */
export async function writePredictions(model: tfl.LayersModel, spec: ModelSpec, slices: PreparedSlices, dir: string, batch: number, threshold: number): Promise<string[]> {
  const { model: fast, release } = inferenceCopy(model, spec);
  let probabilities: Float32Array[];
  try {
    probabilities = await predictProbabilities(fast, slices, batch);
  } finally {
    release();
  }
  const files: string[] = [];
  for (let k = 0; k < probabilities.length; k++) {
    const p = probabilities[k]!;
    const channels = p.length / (slices.size * slices.size);
    const file = join(dir, `${slices.ids[k]!.replace(/[:/\\]/g, '_')}.png`);
    await writeFileAtomic(file, await encodeGrayPng({ width: slices.size, height: slices.size, data: classMapPixels(decideClasses(p, channels, threshold), channels) }));
    files.push(file);
  }
  return files;
}
