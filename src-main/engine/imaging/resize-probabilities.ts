/**
 * Bilinear resize of a channels-last float map `[height, width, channels]` (e.g. per-class
 * probabilities) with half-pixel centres — the convention of PyTorch's `interpolate(...,
 * align_corners=False)` and of sharp — so a prediction made on the model's grid lands on the
 * slice's own grid before it is thresholded. Edges clamp to the nearest source pixel.
 */
export function resizeProbabilities(values: Float32Array, width: number, height: number, channels: number, toWidth: number, toHeight: number): Float32Array {
  if (width === toWidth && height === toHeight) return values.slice();
  const out = new Float32Array(toWidth * toHeight * channels);
  const axis = (to: number, from: number) =>
    Array.from({ length: to }, (_, d) => {
      const s = Math.min(from - 1, Math.max(0, (d + 0.5) * (from / to) - 0.5));
      const lo = Math.floor(s);
      return { lo, hi: Math.min(from - 1, lo + 1), f: s - lo };
    });
  const xs = axis(toWidth, width);
  const ys = axis(toHeight, height);
  for (let y = 0; y < toHeight; y++) {
    const { lo: y0, hi: y1, f: fy } = ys[y]!;
    for (let x = 0; x < toWidth; x++) {
      const { lo: x0, hi: x1, f: fx } = xs[x]!;
      const o = (y * toWidth + x) * channels;
      for (let c = 0; c < channels; c++) {
        const a = values[(y0 * width + x0) * channels + c]!;
        const b = values[(y0 * width + x1) * channels + c]!;
        const d = values[(y1 * width + x0) * channels + c]!;
        const e = values[(y1 * width + x1) * channels + c]!;
        out[o + c] = (a + (b - a) * fx) * (1 - fy) + (d + (e - d) * fx) * fy;
      }
    }
  }
  return out;
}

/**
 * Class map from channels-last probabilities: one channel is thresholded (1 where `p >= threshold`),
 * several take the most probable class (ties to the lower class).
 */
export function decideClasses(probabilities: Float32Array, channels: number, threshold: number): Uint8Array {
  const pixels = probabilities.length / channels;
  const out = new Uint8Array(pixels);
  if (channels === 1) {
    for (let i = 0; i < pixels; i++) out[i] = probabilities[i]! >= threshold ? 1 : 0;
    return out;
  }
  for (let i = 0; i < pixels; i++) {
    let best = 0;
    for (let c = 1; c < channels; c++) if (probabilities[i * channels + c]! > probabilities[i * channels + best]!) best = c;
    out[i] = best;
  }
  return out;
}
