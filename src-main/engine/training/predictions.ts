import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../files/atomic-write';
import { encodeGrayPng } from '../imaging/png-io';
import { inferenceCopy, type ModelSpec } from '../models/registry';
import { predictProbabilities } from './evaluate';
import type { PreparedSlices } from './slice-cache';

/** Writes a 0/255 PNG mask per slice (`NAME.png`, NIfTI `vol:z012` as `vol_z012.png`) into `dir`. */
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
    const mask = new Uint8Array(p.length);
    for (let i = 0; i < p.length; i++) mask[i] = p[i]! >= threshold ? 255 : 0;
    const file = join(dir, `${slices.ids[k]!.replace(/[:/\\]/g, '_')}.png`);
    await writeFileAtomic(file, await encodeGrayPng({ width: slices.size, height: slices.size, data: mask }));
    files.push(file);
  }
  return files;
}
