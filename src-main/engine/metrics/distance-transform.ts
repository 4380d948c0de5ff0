/**
 * Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): for every pixel,
 * the squared distance to the nearest pixel where `isFeature` is true (Infinity when there is none).
 */
export function squaredDistanceTransform(width: number, height: number, isFeature: (i: number) => boolean): Float64Array {
  const INF = 1e20;
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = isFeature(i) ? 0 : INF;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const pass = (length: number, get: (k: number) => number, set: (k: number, value: number) => void) => {
    for (let q = 0; q < length; q++) f[q] = get(q);
    let k = 0;
    v[0] = 0;
    z[0] = -Infinity;
    z[1] = Infinity;
    for (let q = 1; q < length; q++) {
      let s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      while (s <= z[k]!) {
        k--;
        s = (f[q]! + q * q - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = Infinity;
    }
    k = 0;
    for (let q = 0; q < length; q++) {
      while (z[k + 1]! < q) k++;
      d[q] = (q - v[k]!) * (q - v[k]!) + f[v[k]!]!;
    }
    for (let q = 0; q < length; q++) set(q, d[q]!);
  };
  for (let x = 0; x < width; x++) pass(height, (y) => out[y * width + x]!, (y, value) => (out[y * width + x] = value));
  for (let y = 0; y < height; y++) pass(width, (x) => out[y * width + x]!, (x, value) => (out[y * width + x] = value));
  for (let i = 0; i < out.length; i++) if (out[i]! >= INF / 2) out[i] = Infinity;
  return out;
}
