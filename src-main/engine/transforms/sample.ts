import type { Random } from '../random/seeded-random';

/**
 * An image/mask pair moving through augmentation, `[height, width]` row-major:
 * `image` in 0..255 (float, so blends and warps do not round), `mask` in 0..1 — hard (0/1) except
 * after soft mixup. For three-class runs `mask` holds one plane per foreground class, plane after
 * plane (`[classes - 1, height, width]`: ground-glass, then consolidation); background is what the
 * planes leave (`1 - sum`), so a pixel moved in from outside the image is background, and blends
 * stay soft one-hot.
 */
export interface Sample {
  width: number;
  height: number;
  image: Float32Array;
  mask: Float32Array;
}

/** What a transform may draw on besides its own sample: another training sample (mixup, CutMix). */
export interface TransformContext {
  partner?: (random: Random) => Sample;
}

/**
 * An augmentation step. `Rand*` transforms fire with probability `prob` and draw every random
 * choice from the injected generator; image and mask always move together.
 */
export interface Transform {
  readonly name: string;
  apply(sample: Sample, random: Random, context: TransformContext): Promise<Sample>;
}

export function cloneSample(sample: Sample): Sample {
  return { width: sample.width, height: sample.height, image: sample.image.slice(), mask: sample.mask.slice() };
}

export function sampleFromBytes(width: number, height: number, image: Uint8Array, mask: Uint8Array): Sample {
  return { width, height, image: Float32Array.from(image), mask: Float32Array.from(mask) };
}

/** Number of target planes a sample carries: 1 (lesion) or the foreground classes. */
export function maskPlanes(sample: Pick<Sample, 'width' | 'height' | 'mask'>): number {
  return sample.mask.length / (sample.width * sample.height);
}

/** A sample whose target is a class map (0 background, 1..planes foreground classes), one plane per foreground class. */
export function sampleFromClassMap(width: number, height: number, image: Uint8Array, labels: Uint8Array, planes = 2): Sample {
  const plane = width * height;
  const mask = new Float32Array(plane * planes);
  for (let i = 0; i < plane; i++) if (labels[i]! > 0 && labels[i]! <= planes) mask[(labels[i]! - 1) * plane + i] = 1;
  return { width, height, image: Float32Array.from(image), mask };
}

/** The class map of a sample with foreground planes: each pixel takes the class of highest value, background when none exceeds what the planes leave. */
export function classMapOf(sample: Sample): Uint8Array {
  const plane = sample.width * sample.height;
  const planes = maskPlanes(sample);
  const out = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) {
    let best = 0;
    let rest = 1;
    let bestValue = -1;
    for (let c = 0; c < planes; c++) {
      const v = sample.mask[c * plane + i]!;
      rest -= v;
      if (v > bestValue) {
        bestValue = v;
        best = c + 1;
      }
    }
    out[i] = bestValue > rest ? best : 0;
  }
  return out;
}

/** Values times `scale`, rounded and clamped to 0..255: images (scale 1) and 0..1 masks (scale 255) back to bytes. */
export function toBytes(values: ArrayLike<number>, scale = 1): Uint8Array {
  return Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v * scale))));
}
