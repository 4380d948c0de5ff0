import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import type { Random } from '../random/seeded-random';
import { randElastic } from '../transforms/elastic';
import { rotateBy } from '../transforms/geometry';
import { classMapOf, sampleFromBytes, sampleFromClassMap, type Sample } from '../transforms/sample';
import type { GanSample } from './gan-data';

export type MaskOrigin = GeneratedPair['maskOrigin'];
const ORIGINS: MaskOrigin[] = ['real', 'flip', 'rotate', 'elastic', 'combined'];

/** An input mask for the generator and where it came from. */
export interface DerivedMask {
  classMap: Uint8Array;
  origin: MaskOrigin;
  /** Ids of the real slices whose masks made it. */
  sources: string[];
  /** The slice whose anatomy the mask belongs to (DAGAN's reference is another slice). */
  base: GanSample;
}

function asSample(base: GanSample, size: number, planes: number): Sample {
  return planes === 1 ? sampleFromBytes(size, size, base.image, base.classMap) : sampleFromClassMap(size, size, base.image, base.classMap, planes);
}

/**
 * The lung of a slice, roughly: dark pixels (air-filled parenchyma) not connected to the image
 * border (the air around the body), plus the slice's own lesions, closed morphologically. Enough to
 * keep a borrowed lesion inside a lung.
 */
export function lungRegion(image: Uint8Array, classMap: Uint8Array, size: number, dark = 60): Uint8Array {
  const outside = new Uint8Array(size * size);
  const stack: number[] = [];
  for (let i = 0; i < size; i++) stack.push(i, (size - 1) * size + i, i * size, i * size + size - 1);
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (outside[p] || image[p]! >= dark) continue;
    outside[p] = 1;
    const x = p % size;
    const y = (p - x) / size;
    if (x > 0) stack.push(p - 1);
    if (x < size - 1) stack.push(p + 1);
    if (y > 0) stack.push(p - size);
    if (y < size - 1) stack.push(p + size);
  }
  const lung = Uint8Array.from(image, (v, i) => ((v < dark && !outside[i]) || classMap[i]! > 0 ? 1 : 0));
  // Closing fills the vessels and bronchial walls (bright, inside the lung), so a borrowed lesion stays whole.
  const radius = Math.max(1, Math.round(size / 64));
  return boxFilter(boxFilter(lung, size, radius, 1), size, radius, 0);
}

/** Morphological dilation (`keep` 1: a pixel becomes 1 when any neighbour in the box is) or erosion (`keep` 0), separable. */
function boxFilter(input: Uint8Array, size: number, radius: number, keep: 0 | 1): Uint8Array {
  const pass = (src: Uint8Array, horizontal: boolean) => {
    const out = new Uint8Array(src.length).fill(1 - keep);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let d = -radius; d <= radius; d++) {
          const xx = horizontal ? x + d : x;
          const yy = horizontal ? y : y + d;
          const value = xx < 0 || yy < 0 || xx >= size || yy >= size ? 1 - keep : src[yy * size + xx]!;
          if (value === keep) {
            out[y * size + x] = keep;
            break;
          }
        }
      }
    }
    return out;
  };
  return pass(pass(input, true), false);
}

/**
 * A new input mask from the real ones, so generated pairs are not copies of training pairs: a real
 * mask as is, flipped left-right, rotated up to 15 degrees, elastically deformed, or the lesions of
 * one slice combined with those of another that fall inside the first slice's lung.
 */
export async function deriveMask(masks: readonly GanSample[], size: number, planes: number, random: Random, allowed: readonly MaskOrigin[] = ORIGINS): Promise<DerivedMask> {
  const base = masks[random.int(masks.length)]!;
  const origin = allowed[random.int(allowed.length)]!;
  const sample = asSample(base, size, planes);
  const toMap = (s: Sample) => classMapOf(s);
  switch (origin) {
    case 'flip': {
      const classMap = new Uint8Array(size * size);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) classMap[y * size + x] = base.classMap[y * size + size - 1 - x]!;
      return { classMap, origin, sources: [base.id], base };
    }
    case 'rotate':
      return { classMap: toMap(rotateBy(sample, random.uniform(-15, 15))), origin, sources: [base.id], base };
    case 'elastic': {
      const scale = size / 256;
      const warped = await randElastic({ prob: 1, alpha: Math.max(1.5, 8 * scale), sigma: Math.max(3, 10 * scale) }).apply(sample, random.fork('elastic'), {});
      return { classMap: toMap(warped), origin, sources: [base.id], base };
    }
    case 'combined': {
      const donors = masks.filter((m) => m !== base && m.classMap.some((v) => v > 0));
      if (donors.length > 0) {
        const donor = donors[random.int(donors.length)]!;
        const lung = lungRegion(base.image, base.classMap, size);
        const classMap = base.classMap.slice();
        let added = 0;
        for (let i = 0; i < classMap.length; i++) {
          if (donor.classMap[i]! > 0 && lung[i] && classMap[i] === 0) {
            classMap[i] = donor.classMap[i]!;
            added++;
          }
        }
        if (added > 0) return { classMap, origin, sources: [base.id, donor.id], base };
      }
      return { classMap: base.classMap.slice(), origin: 'real', sources: [base.id], base };
    }
    default:
      return { classMap: base.classMap.slice(), origin: 'real', sources: [base.id], base };
  }
}
