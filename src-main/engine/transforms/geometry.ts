import { requireParameter } from '../errors';
import type { Random } from '../random/seeded-random';
import { maskPlanes, type Sample, type Transform } from './sample';

/**
 * Resamples image (bilinear) and mask (nearest, so it stays hard) through an inverse mapping:
 * output pixel (x, y) takes the input at `source(x, y)`; outside the image it is 0.
 */
export function warp(sample: Sample, source: (x: number, y: number) => [number, number]): Sample {
  const { width, height, image, mask } = sample;
  const plane = width * height;
  const planes = maskPlanes(sample);
  const outImage = new Float32Array(plane);
  const outMask = new Float32Array(plane * planes);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = source(x, y);
      const i = y * width + x;
      const nx = Math.round(sx);
      const ny = Math.round(sy);
      if (nx >= 0 && ny >= 0 && nx < width && ny < height) for (let c = 0; c < planes; c++) outMask[c * plane + i] = mask[c * plane + ny * width + nx]!;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let value = 0;
      for (const [dx, dy, w] of [
        [0, 0, (1 - fx) * (1 - fy)],
        [1, 0, fx * (1 - fy)],
        [0, 1, (1 - fx) * fy],
        [1, 1, fx * fy],
      ] as const) {
        const px = x0 + dx;
        const py = y0 + dy;
        if (w > 0 && px >= 0 && py >= 0 && px < width && py < height) value += w * image[py * width + px]!;
      }
      outImage[i] = value;
    }
  }
  return { width, height, image: outImage, mask: outMask };
}

/** Exact pixel permutation: output pixel (x, y) copies input `source(x, y)` (flips, quarter turns). */
function remap(sample: Sample, source: (x: number, y: number) => [number, number]): Sample {
  const { width, height } = sample;
  const plane = width * height;
  const planes = maskPlanes(sample);
  const image = new Float32Array(plane);
  const mask = new Float32Array(plane * planes);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = source(x, y);
      const from = sy * width + sx;
      image[y * width + x] = sample.image[from]!;
      for (let c = 0; c < planes; c++) mask[c * plane + y * width + x] = sample.mask[c * plane + from]!;
    }
  }
  return { width, height, image, mask };
}

function checkProb(prob: number): void {
  requireParameter(prob >= 0 && prob <= 1, `prob must be in [0, 1], got ${prob}`);
}

/** Mirrors left-right and/or up-down, each with probability `prob`. Exact (no resampling). */
export function randFlip(options: { prob?: number; horizontal?: boolean; vertical?: boolean } = {}): Transform {
  const prob = options.prob ?? 0.5;
  checkProb(prob);
  const horizontal = options.horizontal ?? true;
  const vertical = options.vertical ?? true;
  return {
    name: 'RandFlip',
    apply: async (sample, random) => {
      const flipX = horizontal && random.chance(prob);
      const flipY = vertical && random.chance(prob);
      if (!flipX && !flipY) return sample;
      return remap(sample, (x, y) => [flipX ? sample.width - 1 - x : x, flipY ? sample.height - 1 - y : y]);
    },
  };
}

/** Rotates by a random multiple of 90 degrees (square images), with probability `prob`. Exact. */
export function randRotate90(options: { prob?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  checkProb(prob);
  return {
    name: 'RandRotate90',
    apply: async (sample, random) => rotate90(sample, random.chance(prob) ? 1 + random.int(3) : 0),
  };
}

/** Rotates counter-clockwise by `turns` quarter turns. */
export function rotate90(sample: Sample, turns: number): Sample {
  const t = ((turns % 4) + 4) % 4;
  if (t === 0) return sample;
  requireParameter(sample.width === sample.height, 'RandRotate90 needs square images; resize first');
  const n = sample.width - 1;
  const map: Record<number, (x: number, y: number) => [number, number]> = {
    1: (x, y) => [n - y, x],
    2: (x, y) => [n - x, n - y],
    3: (x, y) => [y, n - x],
  };
  return remap(sample, map[t]!);
}

/** Rotates by a uniform angle in `[-maxDegrees, maxDegrees]` about the centre: bilinear image, nearest mask. */
export function randRotate(options: { prob?: number; maxDegrees?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  const maxDegrees = options.maxDegrees ?? 15;
  checkProb(prob);
  requireParameter(maxDegrees >= 0 && maxDegrees <= 180, `maxDegrees must be in [0, 180], got ${maxDegrees}`);
  return {
    name: 'RandRotate',
    apply: async (sample, random) => {
      if (!random.chance(prob)) return sample;
      return rotateBy(sample, random.uniform(-maxDegrees, maxDegrees));
    },
  };
}

export function rotateBy(sample: Sample, degrees: number): Sample {
  const angle = (degrees * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (sample.width - 1) / 2;
  const cy = (sample.height - 1) / 2;
  return warp(sample, (x, y) => [cx + cos * (x - cx) + sin * (y - cy), cy - sin * (x - cx) + cos * (y - cy)]);
}

export type { Random };
