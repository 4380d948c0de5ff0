import type { Random } from '../random/seeded-random';

/**
 * An image/mask pair moving through augmentation, `[height, width]` row-major:
 * `image` in 0..255 (float, so blends and warps do not round), `mask` in 0..1 — hard (0/1) except
 * after soft mixup.
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

/** Values times `scale`, rounded and clamped to 0..255: images (scale 1) and 0..1 masks (scale 255) back to bytes. */
export function toBytes(values: ArrayLike<number>, scale = 1): Uint8Array {
  return Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v * scale))));
}
