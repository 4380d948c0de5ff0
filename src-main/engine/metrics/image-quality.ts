import { gaussianBlur } from '../imaging/gaussian-blur';

/** Peak signal-to-noise ratio in dB of `b` against reference `a` (8-bit range); Infinity when equal. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/**
 * Mean structural similarity (Wang et al. 2004): Gaussian window sigma 1.5, C1 = (0.01*255)^2,
 * C2 = (0.03*255)^2, averaged over the image. 1 for identical images.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number {
  const n = width * height;
  const fa = Float32Array.from(a);
  const fb = Float32Array.from(b);
  const product = (x: Float32Array, y: Float32Array) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!;
    return out;
  };
  const blur = (data: Float32Array) => gaussianBlur({ width, height, data }, 1.5).data;
  const muA = blur(fa);
  const muB = blur(fb);
  const aa = blur(product(fa, fa));
  const bb = blur(product(fb, fb));
  const ab = blur(product(fa, fb));
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const ma = muA[i]!;
    const mb = muB[i]!;
    const va = aa[i]! - ma * ma;
    const vb = bb[i]! - mb * mb;
    const cov = ab[i]! - ma * mb;
    total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  }
  return total / n;
}
