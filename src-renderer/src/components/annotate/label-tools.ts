import { borderConnectedZeros } from '../../../../src-shared/border-background';
/**
 * Pixel geometry of the annotation tools, on a label map stored row-major `[height, width]` in the
 * slice's source coordinates (0 background, 1 ground-glass, 2 consolidation). Pure functions: the
 * canvas only turns pointer positions into source coordinates and applies what these return.
 */

/** The pixels a change touched, with their values before and after (an undo step). */
export interface LabelPatch {
  indices: Uint32Array;
  before: Uint8Array;
  after: Uint8Array;
}

/**
 * Pixels of a round brush of `diameter` pixels centred at source point (cx, cy): those whose centre
 * (x + 0.5, y + 0.5) lies within diameter / 2 of it. A diameter of 1 or less is the pixel under the point.
 */
export function brushDisc(cx: number, cy: number, diameter: number, width: number, height: number): number[] {
  const out: number[] = [];
  if (diameter <= 1) {
    const x = Math.floor(cx);
    const y = Math.floor(cy);
    if (x >= 0 && y >= 0 && x < width && y < height) out.push(y * width + x);
    return out;
  }
  const r = diameter / 2;
  const r2 = r * r;
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(height - 1, Math.ceil(cy + r));
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(width - 1, Math.ceil(cx + r));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) out.push(y * width + x);
    }
  }
  return out;
}

/**
 * Pixels swept by the brush moving from (x0, y0) to (x1, y1): discs at steps of at most a quarter
 * diameter (at least every pixel), so a fast mouse move leaves no gaps.
 */
export function brushSegment(x0: number, y0: number, x1: number, y1: number, diameter: number, width: number, height: number): number[] {
  const length = Math.hypot(x1 - x0, y1 - y0);
  const step = Math.max(0.5, Math.min(1, diameter / 4));
  const steps = Math.max(1, Math.ceil(length / step));
  const seen = new Set<number>();
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    for (const i of brushDisc(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, diameter, width, height)) seen.add(i);
  }
  return [...seen];
}

/** The 4-connected region of pixels equal to the one at (x, y) (flood fill). */
export function floodRegion(labels: Uint8Array, width: number, height: number, x: number, y: number): number[] {
  const sx = Math.floor(x);
  const sy = Math.floor(y);
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return [];
  const seed = sy * width + sx;
  const value = labels[seed]!;
  const visited = new Uint8Array(width * height);
  const out: number[] = [];
  const stack = [seed];
  visited[seed] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    out.push(i);
    const px = i % width;
    const neighbours = [px > 0 ? i - 1 : -1, px < width - 1 ? i + 1 : -1, i >= width ? i - width : -1, i + width < width * height ? i + width : -1];
    for (const n of neighbours) {
      if (n >= 0 && !visited[n] && labels[n] === value) {
        visited[n] = 1;
        stack.push(n);
      }
    }
  }
  return out;
}

/**
 * Holes of the lesion map: background pixels (0) that no 4-connected path of background joins to the
 * slice border. Filling them closes a painted outline at once.
 */
export function holePixels(labels: Uint8Array, width: number, height: number): number[] {
  const outside = borderConnectedZeros(labels, width, height);
  const out: number[] = [];
  for (let i = 0; i < width * height; i++) if (labels[i] === 0 && !outside[i]) out.push(i);
  return out;
}

/** Pixels whose centre lies inside the closed polygon `points` (source coordinates; even-odd rule, as canvas fill). */
export function polygonPixels(points: ReadonlyArray<{ x: number; y: number }>, width: number, height: number): number[] {
  const out: number[] = [];
  if (points.length < 3) return out;
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    const crossings: number[] = [];
    for (let k = 0; k < points.length; k++) {
      const a = points[k]!;
      const b = points[(k + 1) % points.length]!;
      // Half-open on y so a vertex shared by two edges counts once.
      if (a.y <= cy !== b.y <= cy) crossings.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    crossings.sort((p, q) => p - q);
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const from = Math.max(0, Math.ceil(crossings[c]! - 0.5));
      const to = Math.min(width - 1, Math.ceil(crossings[c + 1]! - 0.5) - 1);
      for (let x = from; x <= to; x++) out.push(y * width + x);
    }
  }
  return out;
}

/** Intensity range painting is confined to (Slicer's "editable intensity range"), in HU or grey levels. */
export interface IntensityRange {
  low: number;
  high: number;
}

/** Keeps the pixels whose intensity lies within `range` (inclusive). */
export function withinRange(indices: readonly number[], intensity: ArrayLike<number>, range: IntensityRange): number[] {
  return indices.filter((i) => intensity[i]! >= range.low && intensity[i]! <= range.high);
}

/**
 * Sets `indices` to `value` in `labels` and returns what changed (pixels already at `value` are left
 * out), or null when nothing changed. The eraser is `value` 0.
 */
export function paint(labels: Uint8Array, indices: readonly number[], value: number): LabelPatch | null {
  const changed: number[] = [];
  for (const i of indices) if (labels[i] !== value) changed.push(i);
  if (changed.length === 0) return null;
  const patch: LabelPatch = { indices: Uint32Array.from(changed), before: new Uint8Array(changed.length), after: new Uint8Array(changed.length).fill(value) };
  changed.forEach((i, k) => {
    patch.before[k] = labels[i]!;
    labels[i] = value;
  });
  return patch;
}

/** The patch that turns `before` into `after` (whole maps of the same size), or null when equal. */
export function diffLabels(before: Uint8Array, after: Uint8Array): LabelPatch | null {
  const changed: number[] = [];
  for (let i = 0; i < after.length; i++) if (before[i] !== after[i]) changed.push(i);
  if (changed.length === 0) return null;
  return { indices: Uint32Array.from(changed), before: Uint8Array.from(changed, (i) => before[i]!), after: Uint8Array.from(changed, (i) => after[i]!) };
}

/** Merges patches of one stroke (applied in order) into one undo step. */
export function mergePatches(patches: readonly LabelPatch[]): LabelPatch | null {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const p of patches) {
    p.indices.forEach((i, k) => {
      if (!first.has(i)) first.set(i, p.before[k]!);
      last.set(i, p.after[k]!);
    });
  }
  const indices = [...last.keys()].filter((i) => first.get(i) !== last.get(i));
  if (indices.length === 0) return null;
  return { indices: Uint32Array.from(indices), before: Uint8Array.from(indices, (i) => first.get(i)!), after: Uint8Array.from(indices, (i) => last.get(i)!) };
}
