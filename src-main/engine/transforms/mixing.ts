import { CovsegError, requireParameter } from '../errors';
import type { Random } from '../random/seeded-random';
import { classMapOf, maskPlanes, type Sample, type Transform, type TransformContext } from './sample';

/** Gamma(shape, 1) by Marsaglia & Tsang 2000 (shape < 1 through the boost Gamma(shape+1) * U^(1/shape)). */
function gamma(shape: number, random: Random): number {
  if (shape < 1) return gamma(shape + 1, random) * random.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = random.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function betaSample(a: number, b: number, random: Random): number {
  const x = gamma(a, random);
  const y = gamma(b, random);
  return x / (x + y);
}

function partnerOf(context: TransformContext, random: Random, sample: Sample, name: string): Sample {
  if (!context.partner) throw new CovsegError('bad-parameter', `${name} needs other training samples to mix with`, { fix: 'use it in a training recipe (or `covseg augment` on a folder)' });
  const other = context.partner(random);
  requireParameter(other.width === sample.width && other.height === sample.height, `${name} needs samples of one size; resize first`);
  requireParameter(maskPlanes(other) === maskPlanes(sample), `${name} needs samples of one task (lesion masks or class maps), not both`);
  return other;
}

export type MixupMaskPolicy = 'soft' | 'hard';

function blend(a: Float32Array, b: Float32Array, l: number): Float32Array {
  return Float32Array.from(a, (v, i) => l * v + (1 - l) * b[i]!);
}

/** Hard union of two targets: per pixel the higher class of the two (for one plane, the maximum). */
function union(a: Sample, b: Sample): Float32Array {
  const planes = maskPlanes(a);
  if (planes === 1) return Float32Array.from(a.mask, (v, i) => Math.max(v, b.mask[i]!));
  const plane = a.width * a.height;
  const mapA = classMapOf(a);
  const mapB = classMapOf(b);
  const mask = new Float32Array(plane * planes);
  for (let i = 0; i < plane; i++) {
    const c = Math.max(mapA[i]!, mapB[i]!);
    if (c > 0) mask[(c - 1) * plane + i] = 1;
  }
  return mask;
}

/**
 * Mixup (Zhang et al. 2018): `image = l*a + (1-l)*b` with `l ~ Beta(alpha, alpha)`. Mask policy
 * `soft`: the target is blended the same way (losses here accept soft targets; class planes become
 * soft one-hot); `hard`: the union of both masks, so every visible lesion counts as lesion — with
 * classes, the denser class wins where both have lesion (consolidation over ground-glass).
 */
export function mixUp(options: { prob?: number; alpha?: number; maskPolicy?: MixupMaskPolicy } = {}): Transform {
  const prob = options.prob ?? 0.5;
  const alpha = options.alpha ?? 0.4;
  const policy = options.maskPolicy ?? 'soft';
  requireParameter(alpha > 0, `mixup alpha must be > 0, got ${alpha}`);
  requireParameter(policy === 'soft' || policy === 'hard', `mixup maskPolicy must be soft or hard, got ${policy}`);
  return {
    name: 'MixUp',
    apply: async (sample, random, context) => {
      if (!random.chance(prob)) return sample;
      const other = partnerOf(context, random, sample, 'MixUp');
      const l = betaSample(alpha, alpha, random);
      const image = new Float32Array(sample.image.length);
      for (let i = 0; i < image.length; i++) image[i] = l * sample.image[i]! + (1 - l) * other.image[i]!;
      return { width: sample.width, height: sample.height, image, mask: policy === 'soft' ? blend(sample.mask, other.mask, l) : union(sample, other) };
    },
  };
}

/** CutMix (Yun et al. 2019): a box of area `1 - l` (l ~ Beta(alpha, alpha)) from another sample, pasted into image and mask alike. */
export function cutMix(options: { prob?: number; alpha?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  const alpha = options.alpha ?? 1;
  requireParameter(alpha > 0, `CutMix alpha must be > 0, got ${alpha}`);
  return {
    name: 'CutMix',
    apply: async (sample, random, context) => {
      if (!random.chance(prob)) return sample;
      const other = partnerOf(context, random, sample, 'CutMix');
      const l = betaSample(alpha, alpha, random);
      const bw = Math.round(sample.width * Math.sqrt(1 - l));
      const bh = Math.round(sample.height * Math.sqrt(1 - l));
      const x0 = random.int(sample.width - bw + 1);
      const y0 = random.int(sample.height - bh + 1);
      const image = sample.image.slice();
      const mask = sample.mask.slice();
      const plane = sample.width * sample.height;
      const planes = maskPlanes(sample);
      for (let y = y0; y < y0 + bh; y++) {
        for (let x = x0; x < x0 + bw; x++) {
          const i = y * sample.width + x;
          image[i] = other.image[i]!;
          for (let c = 0; c < planes; c++) mask[c * plane + i] = other.mask[c * plane + i]!;
        }
      }
      return { width: sample.width, height: sample.height, image, mask };
    },
  };
}
