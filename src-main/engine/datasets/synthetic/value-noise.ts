import type { Random } from '../../random/seeded-random';

/**
 * Smooth random field in [-1, 1]: random values on a coarse grid (spacing `cell` pixels), smoothly
 * interpolated. Cheap enough to make irregular lesion borders and lung texture per slice.
 */
export function valueNoise(width: number, height: number, cell: number, random: Random): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = random.uniform(-1, 1);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    const sy = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const sx = fx * fx * (3 - 2 * fx);
      const a = grid[y0 * gw + x0]!;
      const b = grid[y0 * gw + x0 + 1]!;
      const c = grid[(y0 + 1) * gw + x0]!;
      const d = grid[(y0 + 1) * gw + x0 + 1]!;
      out[y * width + x] = (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy;
    }
  }
  return out;
}

/** Sum of value-noise octaves (cells `cell`, `cell/2`, ...) with halving weight, rescaled to about [-1, 1]. */
export function fractalNoise(width: number, height: number, cell: number, octaves: number, random: Random): Float32Array {
  const out = new Float32Array(width * height);
  let weight = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const layer = valueNoise(width, height, Math.max(2, cell / 2 ** o), random);
    for (let i = 0; i < out.length; i++) out[i]! += layer[i]! * weight;
    total += weight;
    weight /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}
