import { requireParameter } from '../errors';
import { gaussianBlur } from '../imaging/gaussian-blur';
import type { Random } from '../random/seeded-random';
import { warp } from './geometry';
import type { Sample, Transform } from './sample';

export const ELASTIC_DEFAULTS = { alpha: 8, sigma: 10 };

/**
 * A smooth random displacement field: white noise in [-1, 1] blurred with a Gaussian of `sigma`
 * pixels, rescaled so its root-mean-square displacement is `alpha` pixels. For sigma >= 4 the noise
 * is drawn on a grid 4x coarser and upsampled bilinearly: the field is smooth at that scale anyway,
 * and the blur costs 16x less.
 */
export function displacementField(width: number, height: number, alpha: number, sigma: number, random: Random): Float32Array {
  const factor = sigma >= 4 ? 4 : 1;
  const cw = Math.ceil(width / factor) + 1;
  const ch = Math.ceil(height / factor) + 1;
  const noise = new Float32Array(cw * ch);
  for (let i = 0; i < noise.length; i++) noise[i] = random.uniform(-1, 1);
  const coarse = gaussianBlur({ width: cw, height: ch, data: noise }, sigma / factor).data;
  const smooth = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / factor;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / factor;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = coarse[y0 * cw + x0]!;
      const b = coarse[y0 * cw + Math.min(cw - 1, x0 + 1)]!;
      const c = coarse[Math.min(ch - 1, y0 + 1) * cw + x0]!;
      const d = coarse[Math.min(ch - 1, y0 + 1) * cw + Math.min(cw - 1, x0 + 1)]!;
      smooth[y * width + x] = (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
    }
  }
  let sumSquares = 0;
  for (let i = 0; i < smooth.length; i++) sumSquares += smooth[i]! * smooth[i]!;
  const rms = Math.sqrt(sumSquares / smooth.length) || 1;
  for (let i = 0; i < smooth.length; i++) smooth[i] = (smooth[i]! / rms) * alpha;
  return smooth;
}

/**
 * Elastic deformation after Simard et al. 2003: every pixel moves by a smooth random field.
 * `alpha` is the RMS displacement in pixels (default 8: clearly visible on a 256-px slice — unlike
 * Albumentations' alpha=1/sigma=50, which moves pixels by under a pixel), `sigma` the smoothness.
 * Bilinear image, nearest mask. Alpha 0 is the identity.
 */
export function randElastic(options: { prob?: number; alpha?: number; sigma?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  const alpha = options.alpha ?? ELASTIC_DEFAULTS.alpha;
  const sigma = options.sigma ?? ELASTIC_DEFAULTS.sigma;
  requireParameter(prob >= 0 && prob <= 1, `prob must be in [0, 1], got ${prob}`);
  requireParameter(alpha >= 0, `alpha must be >= 0 pixels, got ${alpha}`);
  requireParameter(sigma > 0, `sigma must be > 0 pixels, got ${sigma}`);
  return {
    name: 'RandElastic',
    apply: async (sample: Sample, random: Random) => {
      if (!random.chance(prob) || alpha === 0) return sample;
      const dx = displacementField(sample.width, sample.height, alpha, sigma, random);
      const dy = displacementField(sample.width, sample.height, alpha, sigma, random);
      return warp(sample, (x, y) => {
        const i = y * sample.width + x;
        return [x + dx[i]!, y + dy[i]!];
      });
    },
  };
}
