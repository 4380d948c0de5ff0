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
 *    are the lungs; the trachea, bowel gas and small pockets go. When no second lung-sized component
 *    exists, the largest may be both lungs joined at a junction line: it is split there
 *    ({@link splitAtJunction}).
 * 4. Radii are in mm: the known pixel size, or the body's larger extent taken as 34 cm. Each lung is
 *    closed with a disc of 17 mm and its holes are filled (vessels, airways, enclosed lesions).
 * 5. Dense lesion against the chest wall: each lung's convex hull is added where it lies in the
 *    body within 60 mm of its surface (the image edge counts as surface), never on the other lung;
 *    the heart's notch and the mediastinum lie deeper.
 * 6. Dense lung between the aerated lung and the rib cage (consolidation in the dependent lung and
 *    the paravertebral gutters): along rays from each lung's centroid, what lies between the lung
 *    and the ribs, beyond the chest wall's usual thickness, is lung ({@link castRibRays},
 *    {@link fillRibCavity}). The chest wall is as thick on both sides, so the prior holds for both
 *    lungs when either meets its ribs, with the thinner of their usual gaps.
 * 7. Aerated islands (air bronchograms, aerated pockets) left apart by consolidation join the lung
 *    they touch, with the tissue around them; none toward the other lung, where the trachea, main
 *    bronchi and oesophagus lie ({@link joinAeratedIslands}). The rib-cage prior then runs again from
 *    the lungs with their islands.
 *
 * Known limit: a lung nearly filled with consolidation leaves too little aerated lung to start from
 * (README, "The lung mask"). Masks are `[height, width]` row-major 0/1 bytes.
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

/** Morphological opening with a disc of `radius` pixels: removes parts narrower than the disc, keeps the rest as it was. */
export function openMask(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const toOutside = distanceTo(inverted(mask), width, height);
  const eroded = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) eroded[i] = toOutside[i]! > radius ? 1 : 0;
  const toCore = distanceTo(eroded, width, height);
  const opened = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) opened[i] = mask[i] && toCore[i]! <= radius ? 1 : 0;
  return opened;
}

// The per-pixel maps below are plain loops: `Uint8Array.from(source, callback)` goes through the
// iterator protocol and a call per pixel, and was half of the lung mask's time.

/** 1 where `mask` is 0 and 0 elsewhere. */
function inverted(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 0 : 1;
  return out;
}

/** 1 where `labels` equals `label`. */
function labelled(labels: Uint8Array, label: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === label ? 1 : 0;
  return out;
}

/** Fills holes: background pixels not connected to the image border become foreground. */
export function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  return inverted(borderConnectedZeros(mask, width, height));
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
  const n = width * height;
  const threshold = otsuThreshold(image);
  // The body: the bright components of some size (a slice cropped through a lung splits the chest wall
  // into several), and their convex hull. Air outside the hull is around the body.
  const bright = new Uint8Array(n);
  for (let i = 0; i < n; i++) bright[i] = image[i]! > threshold ? 1 : 0;
  const tissue = connectedComponents(bright, width, height);
  const largestTissue = tissue.sizes.reduce((a, b, label) => (label > 0 && b > a ? b : a), 0);
  const isBody = tissue.sizes.map((size, label) => label > 0 && size >= 0.02 * largestTissue && size >= 0.0005 * n);
  const bodyPoints: [number, number][] = [];
  for (let i = 0; i < n; i++) if (isBody[tissue.labels[i]!]) bodyPoints.push([i % width, Math.floor(i / width)]);
  const inBody = new Uint8Array(n);
  fillConvexHull(bodyPoints, width, height, inBody, 1);
  const mm = pixelSizeMm(options.spacing, bodyPoints);
  // Lung: darker than a level 60 % of the way from the dark class to the tissue class, so
  // ground-glass (between the two) counts as lung, fat and soft tissue do not.
  const [darkMean, brightMean] = classMeans(image, threshold);
  const lungLevel = darkMean + 0.6 * (brightMean - darkMean);
  const dark = new Uint8Array(n);
  for (let i = 0; i < n; i++) dark[i] = image[i]! <= lungLevel && !isBody[tissue.labels[i]!] ? 1 : 0;
  const { labels, sizes } = connectedComponents(dark, width, height);
  // A dark component mostly inside the body hull is kept whole: a lung that meets the image edge
  // reaches past the hull there, while the air around the patient lies mostly outside it.
  const insideHull = new Array<number>(sizes.length).fill(0);
  for (let i = 0; i < n; i++) if (labels[i] && inBody[i]) insideHull[labels[i]!]!++;
  const candidates: number[] = [];
  for (let label = 1; label < sizes.length; label++) if (sizes[label]! >= 0.004 * n && insideHull[label]! >= 0.5 * sizes[label]!) candidates.push(label);
  candidates.sort((a, b) => sizes[b]! - sizes[a]!);
  const largest = candidates.length > 0 ? sizes[candidates[0]!]! : 0;
  const kept = candidates.filter((label) => sizes[label]! >= 0.08 * largest).slice(0, 2);
  // seeds: 1-based index of the aerated lung each pixel belongs to.
  const seeds = new Uint8Array(n);
  kept.forEach((label, k) => {
    for (let i = 0; i < n; i++) if (labels[i] === label) seeds[i] = k + 1;
  });
  let seedCount = kept.length;
  // Both lungs in one component (they touch at the anterior or posterior junction line): no second
  // lung-sized component. Split it at its narrowest neck.
  if (kept.length >= 1 && (kept.length < 2 || sizes[kept[1]!]! < 0.25 * largest)) {
    const one = labelled(seeds, 1);
    const halves = splitAtJunction(one, image, width, height, lungLevel, darkMean, JUNCTION_MM / mm);
    if (halves) {
      seeds.fill(0);
      seeds.set(halves);
      seedCount = 2;
    }
  }
  for (let i = 0; i < n; i++) if (seeds[i]) inBody[i] = 1;
  const centroids = centroidsOf(seeds, seedCount, width);
  // Depth of each pixel below the body surface (the image edge counts as surface: slices cropped to the body).
  const outside = inverted(inBody);
  const depth = distanceTo(outside, width, height);
  for (let i = 0; i < n; i++) {
    const x = i % width;
    const y = (i - x) / width;
    depth[i] = Math.min(depth[i]!, x + 1, y + 1, width - x, height - y);
  }
  const bone = boneMask(image, width, height, threshold, inBody, seeds);
  const radius = Math.max(2, CLOSING_RADIUS_MM / mm);
  const costal = COSTAL_DEPTH_MM / mm;
  const lungLabels = new Uint8Array(n);
  const grown: Uint8Array[] = [];
  centroids.forEach((c) => {
    const one = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (seeds[i] === c.seed) one[i] = 1;
    // Closing and hole filling: vessels, airways and lesions enclosed by aerated lung.
    const filled = fillHoles(closeMask(one, width, height, radius), width, height);
    // Dense lesion against the chest wall leaves a flat or concave stretch of the aerated lung's
    // outline: its convex hull restores the outline, but only near the body surface, so the heart's
    // notch and the mediastinum (deep inside the body) stay out.
    const hullPoints: [number, number][] = [];
    for (let i = 0; i < n; i++) if (filled[i]) hullPoints.push([i % width, Math.floor(i / width)]);
    const hull = new Uint8Array(n);
    fillConvexHull(hullPoints, width, height, hull, 1);
    for (let i = 0; i < n; i++) if (hull[i] && !filled[i] && inBody[i] && depth[i]! <= costal && (seeds[i] === 0 || seeds[i] === c.seed)) filled[i] = 1;
    grown.push(filled);
  });
  // The rib-cage prior (step 6). The chest wall is as thick on both sides: when one lung meets its
  // ribs where it is healthy, the prior holds for the patient, and the thinner lung-to-rib gap of the
  // two is the chest wall's own (a lung consolidated along its whole costal surface meets no rib).
  const lungsOf = (labelledMap: Uint8Array) => centroids.map((_, k) => labelled(labelledMap, k + 1));
  const othersOf = (lungs: Uint8Array[], k: number) => {
    const others = new Uint8Array(n);
    lungs.forEach((g, j) => {
      if (j !== k) for (let i = 0; i < n; i++) if (g[i]) others[i] = 1;
    });
    return others;
  };
  const castFrom = (lungs: Uint8Array[], k: number, others: Uint8Array) =>
    castRibRays(lungs[k]!, others, bone, inBody, centroids[k]!, centroids.find((o) => o !== centroids[k]), width, height, RIB_GAP_MM / mm);
  const casts = grown.map((_, k) => castFrom(grown, k, othersOf(grown, k)));
  const withRibs = casts.filter((cast) => cast.gaps.length > 0);
  const priorHolds = withRibs.some((cast) => meetsRibs(cast, CONTACT_MM / mm));
  const usual = priorHolds ? Math.min(...withRibs.map(usualGap)) : 0;
  /** Adds lung `k`'s rib-bounded cavity to `lungLabels`, from the lungs as they are there. */
  const fillCavity = (k: number, lungs: Uint8Array[], cast?: RibRays) => {
    const others = othersOf(lungs, k);
    const cavity = fillRibCavity(lungs[k]!, cast ?? castFrom(lungs, k, others), usual, others, bone, inBody, width, height, RIB_SPACE_MM / 2 / mm, THIN_BAND_MM / 2 / mm);
    for (let i = 0; i < n; i++) if (cavity[i] && !lungLabels[i]) lungLabels[i] = k + 1;
  };
  grown.forEach((lung, k) => {
    if (priorHolds) fillCavity(k, grown, casts[k]);
    else for (let i = 0; i < n; i++) if (lung[i] && !lungLabels[i]) lungLabels[i] = k + 1;
  });
  // Aerated islands (step 7): dark components left out of the lungs, next to one.
  const islands = new Uint8Array(n);
  const isLung = new Set(kept);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (label && !isLung.has(label) && !seeds[i] && sizes[label]! >= ISLAND_MIN_MM2 / (mm * mm) && insideHull[label]! >= 0.5 * sizes[label]!) islands[i] = 1;
  }
  const joined = joinAeratedIslands(lungLabels, islands, centroids, bone, inBody, width, height, ISLAND_TOUCH_MM / mm, radius);
  // The rib cage bounds the lung with its islands too: the rays start again from the islands' outer edge.
  if (priorHolds && joined.length > 0) {
    const lungs = lungsOf(lungLabels);
    for (const k of joined) fillCavity(k, lungs);
  }
  const mask = new Uint8Array(n);
  const counts = centroids.map(() => 0);
  for (let i = 0; i < n; i++) {
    if (lungLabels[i]) {
      mask[i] = 1;
      counts[lungLabels[i]! - 1]!++;
    }
  }
  return { width, height, mask, labels: lungLabels, lungs: centroids.map((c, k) => ({ pixels: counts[k]!, cx: c.cx, cy: c.cy, label: k + 1 })), threshold };
}

/** Soft tissue this bright (or brighter) leaves no room for bone above it: the window is too narrow to tell them apart. */
const SATURATED_TISSUE = 245;

/**
 * Bone (ribs, vertebra, sternum): brighter than soft tissue, halfway from its level to white, on the
 * image smoothed over 3 x 3 pixels (JPEG noise in soft tissue reaches white pixel by pixel). Soft
 * tissue's level is the mode of the bright class: muscle, heart and vessels dominate it. Windows vary
 * from slice to slice (soft tissue from about 190 to 250 on the MedSeg slices); where soft tissue
 * itself is nearly white, bone cannot be told from it and none is returned.
 */
function boneMask(image: ArrayLike<number>, width: number, height: number, threshold: number, inBody: Uint8Array, seeds: Uint8Array): Uint8Array {
  const n = width * height;
  const smooth = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          sum += image[yy * width + xx]!;
          count++;
        }
      }
      smooth[y * width + x] = sum / count;
    }
  }
  const histogram = new Float64Array(256);
  for (let i = 0; i < n; i++) if (inBody[i] && smooth[i]! > threshold) histogram[Math.round(smooth[i]!)]!++;
  let mode = 0;
  let best = -1;
  for (let v = 0; v < 256; v++) {
    let sum = 0;
    for (let k = Math.max(0, v - 3); k <= Math.min(255, v + 3); k++) sum += histogram[k]!;
    if (sum > best) {
      best = sum;
      mode = v;
    }
  }
  const bone = new Uint8Array(n);
  if (mode >= SATURATED_TISSUE) return bone;
  const level = mode + 0.5 * (255 - mode);
  for (let i = 0; i < n; i++) bone[i] = inBody[i] && !seeds[i] && smooth[i]! >= level ? 1 : 0;
  return bone;
}

/** Dark components at least this large (mm²) can be aerated islands of a lung. */
const ISLAND_MIN_MM2 = 20;
/** An island this close to a lung joins it. */
const ISLAND_TOUCH_MM = 3;

/**
 * Aerated islands: air bronchograms and pockets of aerated lung inside consolidation are lung (the
 * air bronchogram is the sign of consolidated lung: Hansell et al., Fleischner Society glossary,
 * Radiology 2008), but the threshold leaves them as dark components apart from the two lungs. Each
 * island within `touch` pixels of a lung joins it, and the lung with its islands is closed with the
 * lung's closing radius and its holes filled, near the islands only: the consolidation around them.
 * The trachea, main bronchi and oesophagus lie in the mediastinum, between the lungs: an island
 * toward the other lung (within the medial cone, as for the rib rays) does not join. Writes into
 * `lungLabels` (1-based lung index per pixel), never over another lung, bone or outside the body;
 * returns the indices of the lungs that islands joined.
 */
function joinAeratedIslands(
  lungLabels: Uint8Array,
  islands: Uint8Array,
  centroids: readonly { cx: number; cy: number }[],
  bone: Uint8Array,
  inBody: Uint8Array,
  width: number,
  height: number,
  touch: number,
  radius: number,
): number[] {
  const n = width * height;
  const parts = connectedComponents(islands, width, height);
  if (parts.sizes.length <= 1) return [];
  const joinedLungs: number[] = [];
  const centres = parts.sizes.map(() => ({ cx: 0, cy: 0 }));
  for (let i = 0; i < n; i++) {
    const part = parts.labels[i]!;
    if (!part) continue;
    centres[part]!.cx += (i % width) / parts.sizes[part]!;
    centres[part]!.cy += Math.floor(i / width) / parts.sizes[part]!;
  }
  centroids.forEach((c, k) => {
    const near = distanceTo(labelled(lungLabels, k + 1), width, height);
    const away = centroids.find((o) => o !== c);
    const joining = new Set<number>();
    for (let i = 0; i < n; i++) {
      const part = parts.labels[i]!;
      if (part && near[i]! <= touch && !joining.has(part) && !(away && withinMedialCone(c, away, centres[part]!))) joining.add(part);
    }
    if (joining.size === 0) return;
    joinedLungs.push(k);
    const joined = labelled(lungLabels, k + 1);
    const joinedIslands = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (joining.has(parts.labels[i]!)) joined[i] = joinedIslands[i] = 1;
    const closed = fillHoles(closeMask(joined, width, height, radius), width, height);
    const nearIsland = distanceTo(joinedIslands, width, height);
    for (let i = 0; i < n; i++) if (closed[i] && !lungLabels[i] && inBody[i] && !bone[i] && nearIsland[i]! <= radius) lungLabels[i] = k + 1;
  });
  return joinedLungs;
}

/** Largest half-width of the neck at which one dark component is split into two lungs. */
export const JUNCTION_MM = 6;
/** Largest gap between the aerated lung and a rib that is taken for dense lung (consolidation, effusion aside). */
export const RIB_GAP_MM = 80;
/** Angular window (each side) over which a ray takes the nearest rib of its neighbours. */
const RIB_WINDOW_DEG = 6;
/** Bands of added tissue thinner than this along the ribs are chest wall, not dense lung. */
const THIN_BAND_MM = 16;
/** A lung meets its ribs when this close; CONTACT_SHARE of its rays must (else it does not fill its cavity). */
const CONTACT_MM = 4;
const CONTACT_SHARE = 0.2;
/** Widest intercostal space bridged between rays that met a rib. */
const RIB_SPACE_MM = 24;
/** Rays toward the other lung, within this angle of its direction, are not cast: the mediastinum lies there. */
const MEDIAL_CONE_DEG = 40;
/** The percentile of the lung-to-rib gaps taken as the chest wall's own thickness. */
const USUAL_GAP_PERCENTILE = 0.1;

/** Whether `p` lies, seen from the lung centroid `c`, within MEDIAL_CONE_DEG of the direction to the other lung's centroid. */
function withinMedialCone(c: { cx: number; cy: number }, away: { cx: number; cy: number }, p: { cx: number; cy: number }): boolean {
  let diff = Math.abs(Math.atan2(p.cy - c.cy, p.cx - c.cx) - Math.atan2(away.cy - c.cy, away.cx - c.cx)) % (2 * Math.PI);
  if (diff > Math.PI) diff = 2 * Math.PI - diff;
  return diff < (MEDIAL_CONE_DEG * Math.PI) / 180;
}

/** Centroids of the seeds 1..count, left to right in the image. */
function centroidsOf(seeds: Uint8Array, count: number, width: number): { seed: number; cx: number; cy: number }[] {
  const sums = Array.from({ length: count }, () => ({ n: 0, x: 0, y: 0 }));
  for (let i = 0; i < seeds.length; i++) {
    const s = seeds[i]!;
    if (!s) continue;
    const sum = sums[s - 1]!;
    sum.n++;
    sum.x += i % width;
    sum.y += Math.floor(i / width);
  }
  return sums
    .map((sum, k) => ({ seed: k + 1, cx: sum.x / Math.max(1, sum.n), cy: sum.y / Math.max(1, sum.n), n: sum.n }))
    .filter((c) => c.n > 0)
    .sort((a, b) => a.cx - b.cx)
    .map(({ seed, cx, cy }) => ({ seed, cx, cy }));
}

/**
 * Splits one component that holds both lungs, joined at a junction line, into two (after Hu, Hoffman
 * & Reinhardt 2001, who look for the junction where the joined lungs are thinnest and brightest):
 * the junction line is four pleural layers, a little brighter than the lungs beside it, and the
 * lungs are narrow there. So the component is thresholded ever lower (from `level` toward
 * `darkest`) and eroded a little (distance to its outside, up to `maxHalfWidth` pixels) until two
 * cores of lung size appear (the smaller at least a fifth of both); every pixel of the component
 * then goes to the core it reaches first inside the component (a geodesic Voronoi split).
 * Returns seeds 1 and 2, or undefined when the component does not part so.
 */
export function splitAtJunction(
  component: Uint8Array,
  image: ArrayLike<number>,
  width: number,
  height: number,
  level: number,
  darkest: number,
  maxHalfWidth: number,
): Uint8Array | undefined {
  let total = 0;
  for (let i = 0; i < component.length; i++) total += component[i]!;
  if (total === 0) return undefined;
  const steps = 8;
  for (let step = 0; step <= steps; step++) {
    const cut = level - ((level - darkest) * step) / (steps + 2);
    const dark = Uint8Array.from(component, (v, i) => (v && image[i]! <= cut ? 1 : 0));
    const inside = distanceTo(inverted(dark), width, height);
    for (let t = 0; t <= maxHalfWidth; t++) {
      const core = Uint8Array.from(inside, (d, i) => (dark[i] && d > t ? 1 : 0));
      const { labels, sizes } = connectedComponents(core, width, height);
      const order = sizes
        .map((s, label) => ({ s, label }))
        .filter((o) => o.label > 0)
        .sort((a, b) => b.s - a.s);
      if (order.length < 2) {
        if (order.length === 0) break;
        continue;
      }
      if (order[1]!.s < 0.2 * (order[0]!.s + order[1]!.s)) continue;
      const out = new Uint8Array(component.length);
      const queue: number[] = [];
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] === order[0]!.label) out[i] = 1;
        else if (labels[i] === order[1]!.label) out[i] = 2;
        if (out[i]) queue.push(i);
      }
      for (let head = 0; head < queue.length; head++) {
        const i = queue[head]!;
        const x = i % width;
        const visit = (j: number) => {
          if (component[j] && !out[j]) {
            out[j] = out[i]!;
            queue.push(j);
          }
        };
        if (x > 0) visit(i - 1);
        if (x < width - 1) visit(i + 1);
        if (i >= width) visit(i - width);
        if (i + width < out.length) visit(i + width);
      }
      let a = 0;
      for (let i = 0; i < out.length; i++) if (out[i] === 1) a++;
      if (Math.min(a, total - a) < 0.2 * total) return undefined;
      return out;
    }
  }
  return undefined;
}

/** What the rays from one lung's centroid found (see {@link castRibRays}). */
interface RibRays {
  rays: number;
  /** Per ray: the nearest rib of its neighbours (Infinity when none), the pixels beyond the lung with their distances. */
  cage: Float64Array;
  segments: { pixels: number[]; dist: number[] }[];
  /** The lung-to-rib gaps of the rays that met a rib, ascending. */
  gaps: number[];
}

/**
 * Rays from one lung's centroid toward its rib cage (after Prasad et al., Acad Radiol 2008, who make
 * the lung border follow the ribs). None within 40 degrees of the other lung: the mediastinum lies
 * there. On each, the gap from the outermost lung pixel to the first bone within `maxGap` pixels is
 * measured, and the cage at a ray is the nearest bone of its neighbours within 6 degrees (a ray
 * through an intercostal space meets no rib, or the scapula).
 */
function castRibRays(
  filled: Uint8Array,
  others: Uint8Array,
  bone: Uint8Array,
  inBody: Uint8Array,
  c: { cx: number; cy: number },
  away: { cx: number; cy: number } | undefined,
  width: number,
  height: number,
  maxGap: number,
): RibRays {
  const reach = Math.hypot(width, height);
  // About one ray per pixel of arc at the image's half-diagonal.
  const rays = Math.min(2048, Math.ceil(Math.PI * reach));
  // Per ray: its distance from the centroid to the outermost lung pixel, to the first bone beyond it
  // (Infinity when none within maxGap), and the pixels in between with their distances.
  const rayLung = new Float64Array(rays).fill(NaN);
  const rayBone = new Float64Array(rays).fill(Infinity);
  const segments: { pixels: number[]; dist: number[] }[] = [];
  const path: number[] = [];
  for (let r = 0; r < rays; r++) {
    segments.push({ pixels: [], dist: [] });
    const angle = (2 * Math.PI * r) / rays;
    const dx = Math.cos(angle) * 0.7;
    const dy = Math.sin(angle) * 0.7;
    if (away && withinMedialCone(c, away, { cx: c.cx + dx, cy: c.cy + dy })) continue;
    path.length = 0;
    let last = -1;
    for (let s = 0; ; s++) {
      const x = Math.round(c.cx + dx * s);
      const y = Math.round(c.cy + dy * s);
      if (x < 0 || y < 0 || x >= width || y >= height) break;
      const i = y * width + x;
      if (path.length > 0 && path[path.length - 1] === i) continue;
      if (!inBody[i]) break;
      path.push(i);
      if (filled[i]) last = path.length - 1;
    }
    if (last < 0) continue;
    const at = (i: number) => Math.hypot((i % width) - c.cx, Math.floor(i / width) - c.cy);
    const edge = at(path[last]!);
    rayLung[r] = edge;
    const segment = segments[r]!;
    for (let k = last + 1; k < path.length; k++) {
      const i = path[k]!;
      const d = at(i);
      if (d - edge > maxGap || others[i]) break;
      if (bone[i]) {
        rayBone[r] = d;
        break;
      }
      segment.pixels.push(i);
      segment.dist.push(d);
    }
  }
  // The rib cage's inner outline: a ray through an intercostal space meets no rib, or bone far
  // beyond (scapula, arm); its neighbours within the window meet the ribs. The nearest of them is the cage there.
  const window = Math.max(1, Math.round((RIB_WINDOW_DEG / 360) * rays));
  const cage = new Float64Array(rays).fill(Infinity);
  for (let r = 0; r < rays; r++) {
    if (Number.isNaN(rayLung[r]!)) continue;
    for (let k = -window; k <= window; k++) cage[r] = Math.min(cage[r]!, rayBone[(r + k + rays) % rays]!);
  }
  const gaps: number[] = [];
  for (let r = 0; r < rays; r++) if (Number.isFinite(rayBone[r]!)) gaps.push(rayBone[r]! - rayLung[r]!);
  gaps.sort((a, b) => a - b);
  return { rays, cage, segments, gaps };
}

/** The chest wall's own thickness between lung and rib: the usual (10th-percentile) gap of the rays. */
const usualGap = (cast: RibRays) => cast.gaps[Math.floor(USUAL_GAP_PERCENTILE * (cast.gaps.length - 1))]!;
/** Whether a lung meets its ribs on at least CONTACT_SHARE of the rays that found a rib. */
const meetsRibs = (cast: RibRays, contact: number) => cast.gaps.length > 0 && cast.gaps[Math.floor(CONTACT_SHARE * (cast.gaps.length - 1))]! <= contact;

/**
 * Dense lung between the aerated lung and the rib cage: the rib cage bounds each lung laterally and
 * posteriorly, so tissue between the aerated lung and the ribs is consolidated lung, not chest wall,
 * once it is thicker than the chest wall's own layers (`usual`). Each ray's gap beyond `usual` is
 * lung; bands thinner than `thinBand * 2` are chest wall and are opened away; gaps between rays are
 * closed. Returns the lung with what was added.
 */
function fillRibCavity(
  filled: Uint8Array,
  cast: RibRays,
  usual: number,
  others: Uint8Array,
  bone: Uint8Array,
  inBody: Uint8Array,
  width: number,
  height: number,
  ribGapClose: number,
  thinBand: number,
): Uint8Array {
  const n = width * height;
  const out = Uint8Array.from(filled);
  const added = new Uint8Array(n);
  let any = false;
  for (let r = 0; r < cast.rays; r++) {
    const cage = cast.cage[r]!;
    if (!Number.isFinite(cage)) continue;
    const segment = cast.segments[r]!;
    for (let k = 0; k < segment.pixels.length; k++) {
      if (segment.dist[k]! > cage - usual) break;
      added[segment.pixels[k]!] = 1;
      any = true;
    }
  }
  if (!any) return out;
  // A thin even band along the ribs is chest wall (pleura, fat, intercostal muscle) that the usual
  // gap did not take out; dense lung is thicker. Opening keeps only what a disc fits in.
  if (thinBand > 0) added.set(openMask(added, width, height, thinBand));
  for (let i = 0; i < n; i++) if (added[i]) out[i] = 1;
  // Rays through an intercostal space find no rib: close the band across such gaps, near what the rays added.
  const closed = closeMask(out, width, height, ribGapClose);
  const nearAdded = distanceTo(added, width, height);
  for (let i = 0; i < n; i++) if (closed[i] && !out[i] && inBody[i] && !bone[i] && !others[i] && nearAdded[i]! <= ribGapClose) out[i] = 1;
  return out;
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
