import { borderConnectedZeros } from '../../../src-shared/border-background';
/**
 * Lung segmentation from the CT itself, by the classical recipe (threshold, body, connected
 * components, closing, hole filling; after Hu, Hoffman & Reinhardt, IEEE TMI 2001), with no model:
 *
 * 1. Otsu's threshold on the windowed 8-bit slice splits air-like pixels from tissue; the bright
 *    components of some size are the body (a slice cropped through a lung splits the chest wall into
 *    several), and their convex hull is where lungs may be.
 * 2. Lung candidates: pixels outside the body components darker than a level 60 % of the way from the
 *    dark class mean to the tissue mean, so ground-glass (between the two) counts as lung. A dark
 *    component mostly inside the hull is kept whole (a lung that meets the image edge reaches past
 *    the hull); the air around the patient lies mostly outside it.
 * 3. The two largest 4-connected components (each >= 0.4 % of the slice and >= 8 % of the largest)
 *    are the lungs; the trachea, bowel gas and small pockets go.
 * 4. Radii are in mm: the known pixel size, or the body's larger extent taken as 34 cm. Each lung is
 *    closed with a disc of 17 mm and its holes are filled (vessels, airways, enclosed lesions).
 * 5. Dense lesion against the chest wall: each lung's convex hull is added where it lies in the
 *    body within 60 mm of its surface (the image edge counts as surface), never on the other lung;
 *    the heart's notch and the mediastinum lie deeper.
 *
 * Known limit: a lung nearly filled with consolidation leaves too little aerated lung to start from,
 * and two lungs touching at the anterior junction form one component (README, "The lung mask").
 * Masks are `[height, width]` row-major 0/1 bytes.
 */
export interface LungMask {
  width: number;
  height: number;
  /** 0 outside the lungs, 1 inside. */
  mask: Uint8Array;
  /** One entry per lung found (at most two), left to right in the image: pixels and centroid. */
  lungs: { pixels: number; cx: number; cy: number; label: number }[];
  /** Per pixel: 0, or the 1-based index into `lungs`. */
  labels: Uint8Array;
  threshold: number;
}

/** Otsu's threshold (1979) of 8-bit values: the level that best separates the two classes. */
export function otsuThreshold(image: ArrayLike<number>): number {
  const histogram = new Float64Array(256);
  for (let i = 0; i < image.length; i++) histogram[Math.max(0, Math.min(255, Math.round(image[i]!)))]!++;
  const total = image.length;
  let sum = 0;
  for (let v = 0; v < 256; v++) sum += v * histogram[v]!;
  let below = 0;
  let sumBelow = 0;
  let best = 0;
  let threshold = 128;
  for (let v = 0; v < 256; v++) {
    below += histogram[v]!;
    if (below === 0) continue;
    const above = total - below;
    if (above === 0) break;
    sumBelow += v * histogram[v]!;
    const between = below * above * (sumBelow / below - (sum - sumBelow) / above) ** 2;
    if (between > best) {
      best = between;
      threshold = v;
    }
  }
  return threshold;
}

/** 4-connected components of the nonzero pixels: labels (0 = background) and each one's size. */
export function connectedComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    const label = sizes.length;
    let size = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      size++;
      const x = i % width;
      const push = (j: number) => {
        if (mask[j] && !labels[j]) {
          labels[j] = label;
          stack.push(j);
        }
      };
      if (x > 0) push(i - 1);
      if (x < width - 1) push(i + 1);
      if (i >= width) push(i - width);
      if (i < mask.length - width) push(i + width);
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** Fills the convex hull of the points (Andrew's monotone chain) into `out` with `value`. */
function fillConvexHull(points: [number, number][], width: number, height: number, out: Uint8Array, value: number): void {
  if (points.length === 0) return;
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of points) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let k = points.length - 1; k >= 0; k--) {
    const p = points[k]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = lower.slice(0, -1).concat(upper.slice(0, -1));
  // Scanline fill: for each row, the span between the hull edges crossing it.
  let minY = height;
  let maxY = -1;
  for (const [, y] of hull) {
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  for (let y = Math.max(0, minY); y <= Math.min(height - 1, maxY); y++) {
    let left = Infinity;
    let right = -Infinity;
    for (let k = 0; k < hull.length; k++) {
      const a = hull[k]!;
      const b = hull[(k + 1) % hull.length]!;
      if ((a[1] <= y && b[1] >= y) || (b[1] <= y && a[1] >= y)) {
        const x = a[1] === b[1] ? [a[0], b[0]] : [a[0] + ((y - a[1]) / (b[1] - a[1])) * (b[0] - a[0])];
        for (const v of x) {
          left = Math.min(left, v);
          right = Math.max(right, v);
        }
      }
    }
    if (hull.length === 1) left = right = hull[0]![0];
    for (let x = Math.max(0, Math.ceil(left - 1e-9)); x <= Math.min(width - 1, Math.floor(right + 1e-9)); x++) out[y * width + x] = value;
  }
}

/** Mean of the 8-bit values at or below / above `threshold`. */
function classMeans(image: ArrayLike<number>, threshold: number): [number, number] {
  let low = 0;
  let nLow = 0;
  let high = 0;
  let nHigh = 0;
  for (let i = 0; i < image.length; i++) {
    if (image[i]! <= threshold) {
      low += image[i]!;
      nLow++;
    } else {
      high += image[i]!;
      nHigh++;
    }
  }
  return [nLow ? low / nLow : 0, nHigh ? high / nHigh : 255];
}

/** Chamfer (3-4) distance in pixels from every pixel to the nearest nonzero pixel of `mask`. */
function distanceTo(mask: Uint8Array, width: number, height: number): Float32Array {
  const far = 1e9;
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = mask[i] ? 0 : far;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + 3);
      if (y > 0) {
        v = Math.min(v, d[i - width]! + 3);
        if (x > 0) v = Math.min(v, d[i - width - 1]! + 4);
        if (x < width - 1) v = Math.min(v, d[i - width + 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      let v = d[i]!;
      if (x < width - 1) v = Math.min(v, d[i + 1]! + 3);
      if (y < height - 1) {
        v = Math.min(v, d[i + width]! + 3);
        if (x < width - 1) v = Math.min(v, d[i + width + 1]! + 4);
        if (x > 0) v = Math.min(v, d[i + width - 1]! + 4);
      }
      d[i] = v;
    }
  }
  for (let i = 0; i < d.length; i++) d[i] = d[i]! / 3;
  return d;
}

/** Morphological closing with a disc of `radius` pixels: fills notches and gaps narrower than the disc. */
export function closeMask(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const toMask = distanceTo(mask, width, height);
  const dilated = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) dilated[i] = toMask[i]! <= radius ? 0 : 1; // complement of the dilation
  const toOutside = distanceTo(dilated, width, height);
  const closed = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) closed[i] = toOutside[i]! > radius ? 1 : 0;
  return closed;
}

/** Fills holes: background pixels not connected to the image border become foreground. */
export function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  return Uint8Array.from(borderConnectedZeros(mask, width, height), (o) => (o ? 0 : 1));
}

export interface LungMaskOptions {
  /** Pixel size in mm [column, row] when the source knows it (NIfTI, DICOM); else estimated from the body. */
  spacing?: readonly number[] | null;
}

/** The body's larger extent in mm assumed when a slice does not know its pixel size (an adult chest is about 30-38 cm wide). */
export const ASSUMED_BODY_WIDTH_MM = 340;
/** Radius of the per-lung closing: takes in vessels, airways and small juxtapleural lesions. */
export const CLOSING_RADIUS_MM = 17;
/** Concavities of a lung's convex hull this close to the body surface are filled: dense lesion against the chest wall. */
export const COSTAL_DEPTH_MM = 60;

/** The lungs of one 8-bit windowed axial CT slice (lung or similar window). */
export function lungMask(image: ArrayLike<number>, width: number, height: number, options: LungMaskOptions = {}): LungMask {
  const threshold = otsuThreshold(image);
  // The body: the bright components of some size (a slice cropped through a lung splits the chest wall
  // into several), and their convex hull. Air outside the hull is around the body.
  const bright = new Uint8Array(width * height);
  for (let i = 0; i < bright.length; i++) bright[i] = image[i]! > threshold ? 1 : 0;
  const tissue = connectedComponents(bright, width, height);
  const largestTissue = tissue.sizes.reduce((a, b, label) => (label > 0 && b > a ? b : a), 0);
  const isBody = tissue.sizes.map((size, label) => label > 0 && size >= 0.02 * largestTissue && size >= 0.0005 * width * height);
  const bodyPoints: [number, number][] = [];
  for (let i = 0; i < bright.length; i++) if (isBody[tissue.labels[i]!]) bodyPoints.push([i % width, Math.floor(i / width)]);
  const inBody = new Uint8Array(width * height);
  fillConvexHull(bodyPoints, width, height, inBody, 1);
  // Lung: darker than a level 60 % of the way from the dark class to the tissue class, so
  // ground-glass (between the two) counts as lung, fat and soft tissue do not.
  const [darkMean, brightMean] = classMeans(image, threshold);
  const lungLevel = darkMean + 0.6 * (brightMean - darkMean);
  const dark = new Uint8Array(width * height);
  for (let i = 0; i < dark.length; i++) dark[i] = image[i]! <= lungLevel && !isBody[tissue.labels[i]!] ? 1 : 0;
  const { labels, sizes } = connectedComponents(dark, width, height);
  // A dark component mostly inside the body hull is kept whole: a lung that meets the image edge
  // reaches past the hull there, while the air around the patient lies mostly outside it.
  const insideHull = new Array<number>(sizes.length).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] && inBody[i]) insideHull[labels[i]!]!++;
  const candidates: number[] = [];
  for (let label = 1; label < sizes.length; label++) if (sizes[label]! >= 0.004 * width * height && insideHull[label]! >= 0.5 * sizes[label]!) candidates.push(label);
  candidates.sort((a, b) => sizes[b]! - sizes[a]!);
  const largest = candidates.length > 0 ? sizes[candidates[0]!]! : 0;
  const kept = candidates.filter((label) => sizes[label]! >= 0.08 * largest).slice(0, 2);
  for (let i = 0; i < labels.length; i++) if (labels[i] && kept.includes(labels[i]!)) inBody[i] = 1;
  const points = new Map<number, [number, number][]>(kept.map((label) => [label, []]));
  for (let i = 0; i < labels.length; i++) {
    const list = points.get(labels[i]!);
    if (list) list.push([i % width, Math.floor(i / width)]);
  }
  const centroids = kept.map((label) => {
    const list = points.get(label)!;
    let sx = 0;
    let sy = 0;
    for (const [x, y] of list) {
      sx += x;
      sy += y;
    }
    return { label, cx: sx / list.length, cy: sy / list.length };
  });
  centroids.sort((a, b) => a.cx - b.cx);
  const mm = pixelSizeMm(options.spacing, bodyPoints);
  // Depth of each pixel below the body surface (the image edge counts as surface: slices cropped to the body).
  const outside = Uint8Array.from(inBody, (v) => 1 - v);
  const depth = distanceTo(outside, width, height);
  for (let i = 0; i < depth.length; i++) {
    const x = i % width;
    const y = (i - x) / width;
    depth[i] = Math.min(depth[i]!, x + 1, y + 1, width - x, height - y);
  }
  const radius = Math.max(2, CLOSING_RADIUS_MM / mm);
  const costal = COSTAL_DEPTH_MM / mm;
  const lungLabels = new Uint8Array(width * height);
  centroids.forEach((c, k) => {
    const one = new Uint8Array(width * height);
    for (let i = 0; i < one.length; i++) if (labels[i] === c.label) one[i] = 1;
    // Closing and hole filling: vessels, airways and lesions enclosed by aerated lung.
    const filled = fillHoles(closeMask(one, width, height, radius), width, height);
    // Dense lesion against the chest wall leaves a flat or concave stretch of the aerated lung's
    // outline: its convex hull restores the outline, but only near the body surface, so the heart's
    // notch and the mediastinum (deep inside the body) stay out.
    const hullPoints: [number, number][] = [];
    for (let i = 0; i < filled.length; i++) if (filled[i]) hullPoints.push([i % width, Math.floor(i / width)]);
    const hull = new Uint8Array(width * height);
    fillConvexHull(hullPoints, width, height, hull, 1);
    const other = centroids.find((o) => o !== c);
    for (let i = 0; i < hull.length; i++) if (hull[i] && !filled[i] && inBody[i] && depth[i]! <= costal && (!other || labels[i] !== other.label)) filled[i] = 1;
    for (let i = 0; i < filled.length; i++) if (filled[i] && !lungLabels[i]) lungLabels[i] = k + 1;
  });
  const mask = new Uint8Array(width * height);
  const counts = centroids.map(() => 0);
  for (let i = 0; i < mask.length; i++) {
    if (lungLabels[i]) {
      mask[i] = 1;
      counts[lungLabels[i]! - 1]!++;
    }
  }
  return { width, height, mask, labels: lungLabels, lungs: centroids.map((c, k) => ({ pixels: counts[k]!, cx: c.cx, cy: c.cy, label: k + 1 })), threshold };
}

/**
 * mm per pixel: the known spacing, or the assumed body width over the body's larger extent in pixels.
 * A spacing that makes the body narrower than 12 cm or wider than 60 cm is no human chest's (a
 * phantom, a wrong header): the estimate is used instead.
 */
function pixelSizeMm(spacing: readonly number[] | null | undefined, bodyPoints: readonly [number, number][]): number {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [x, y] of bodyPoints) {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const extent = Math.max(maxX - minX + 1, maxY - minY + 1);
  if (extent <= 0) return 1;
  if (spacing && spacing.length >= 2 && spacing[0]! > 0 && spacing[1]! > 0) {
    const known = (spacing[0]! + spacing[1]!) / 2;
    if (extent * known >= 120 && extent * known <= 600) return known;
  }
  return ASSUMED_BODY_WIDTH_MM / extent;
}

/**
 * How the two lungs of a slice lie: 'side-by-side' (the usual axial view), 'stacked' (one above the
 * other: the picture is turned by 90 degrees), or undefined when fewer than two lungs were found.
 */
export function lungArrangement(found: LungMask): 'side-by-side' | 'stacked' | undefined {
  if (found.lungs.length < 2) return undefined;
  const [a, b] = found.lungs as [LungMask['lungs'][0], LungMask['lungs'][0]];
  // Both must be lung-sized: a large lung and a sliver say nothing about the arrangement.
  if (Math.min(a.pixels, b.pixels) < 0.25 * Math.max(a.pixels, b.pixels)) return undefined;
  return Math.abs(a.cy - b.cy) > Math.abs(a.cx - b.cx) ? 'stacked' : 'side-by-side';
}
