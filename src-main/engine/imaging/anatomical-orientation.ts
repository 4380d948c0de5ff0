import { RADIOLOGICAL_EDGES } from '../../../src-shared/lung-sides';
import { formatOrientation, orientEdges, type EdgeLabels, type Orientation } from '../../../src-shared/orientation';
import { connectedComponents, lungArrangement, lungMask, type LungMask } from './lung-mask';

/**
 * Which way an axial CT slice is turned, read from its anatomy, for pictures that do not say it
 * (PNG slices; NIfTI and DICOM carry an affine). Classical and documented, no model:
 *
 * 1. The two lungs (lung-mask.ts) lie side by side along the patient's right-left axis; across it
 *    runs the anterior-posterior axis.
 * 2. Posterior: the vertebral body, the largest bright bone between the lungs, lies behind the line
 *    through the lungs' centroids; the sternum in front is far smaller. Bone is what is clearly
 *    brighter than the soft tissue (halfway from its median grey to white).
 * 3. The patient's left: the heart bulges to the left of the spine and the descending aorta lies left
 *    of it, so the soft tissue between the lungs lies mostly left of the vertebra; and the right lung
 *    is the larger one (three lobes against two and the cardiac notch).
 * 4. Of the 8 orientations (4 quarter turns, each with or without a mirror), the one that puts
 *    posterior at the bottom and the patient's left on the image's right (the radiological
 *    convention, see lung-sides.ts) is the answer; each cue gives a confidence and the estimate
 *    abstains when either is weak.
 *
 * Slices are `[height, width]` row-major 8-bit grey levels, windowed for the lungs (air dark, soft
 * tissue light grey, bone white). A window that saturates soft tissue hides the bone: abstains.
 */

/** The 8 distinct display orientations, each in one canonical spelling (no flipV: flipV = rot180 + flipH). */
export const ALL_ORIENTATIONS: readonly Orientation[] = ([0, 90, 180, 270] as const).flatMap((rotate) => [false, true].map((flipH) => ({ rotate, flipH, flipV: false })));

const sameEdges = (a: EdgeLabels, b: EdgeLabels) => a.top === b.top && a.bottom === b.bottom && a.left === b.left && a.right === b.right;

/** The canonical orientation that shows a slice whose stored edges are `edges` with `target` edges (default: radiologically). */
export function orientationShowing(edges: EdgeLabels, target: EdgeLabels = RADIOLOGICAL_EDGES): Orientation | undefined {
  return ALL_ORIENTATIONS.find((o) => sameEdges(orientEdges(edges, o), target));
}

/** The canonical spelling of an orientation (e.g. rot90+flipV becomes rot270+flipH): the same picture. */
export function canonicalOrientation(o: Orientation): Orientation {
  return orientationShowing({ top: 't', bottom: 'b', left: 'l', right: 'r' }, orientEdges({ top: 't', bottom: 'b', left: 'l', right: 'r' }, o))!;
}

export type Edge = keyof EdgeLabels;

export interface CueReading {
  /** The stored slice's edge the cue points to (posterior, or the patient's left); absent when not found. */
  edge?: Edge;
  /** 0 (no evidence) to 1 (clear). */
  confidence: number;
}

export interface AnatomicalOrientation {
  /** The display orientation that shows the slice radiologically; absent when the estimate abstains. */
  orientation?: Orientation;
  /** The weaker of the two cues' confidences, 0 to 1. */
  confidence: number;
  posterior: CueReading;
  left: CueReading;
  /** Why it abstained. */
  reason?: string;
  /**
   * The raw cues, for reports and tuning: the bone between the lungs beyond / before their line as
   * a share (-1..1, + when the bone lies toward high t), the mediastinum's mean offset from the
   * vertebra in lung half-distances and the lungs' size difference as a share (both + when they say
   * the lung at high s is the patient's left).
   */
  cues?: { bone: number; heart: number; lungs: number };
  /** The vertebral body's centre in image pixels (of its part between the lungs) and its size there, when found: the lung mask must stay out of it. */
  vertebra?: { x: number; y: number; pixels: number };
}

/** Below this confidence a cue does not decide. */
export const MIN_CONFIDENCE = 0.3;

interface Frame {
  /** Along the lungs' axis (the patient's right-left) and across it (anterior-posterior). */
  s: (i: number) => number;
  t: (i: number) => number;
  /** The stored edge at low / high s and low / high t. */
  sEdges: [Edge, Edge];
  tEdges: [Edge, Edge];
}

function frameOf(arrangement: 'side-by-side' | 'stacked', width: number): Frame {
  const x = (i: number) => i % width;
  const y = (i: number) => Math.floor(i / width);
  return arrangement === 'side-by-side'
    ? { s: x, t: y, sEdges: ['left', 'right'], tEdges: ['top', 'bottom'] }
    : { s: y, t: x, sEdges: ['top', 'bottom'], tEdges: ['left', 'right'] };
}

function median(values: Uint8Array, count: number): number {
  const histogram = new Uint32Array(256);
  for (let i = 0; i < count; i++) histogram[values[i]!]!++;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v]!;
    if (seen * 2 >= count) return v;
  }
  return 255;
}

/** Maps a raw score to 0..1: 0 at or below `none`, 1 at or above `clear`. */
const ramp = (score: number, none: number, clear: number) => Math.max(0, Math.min(1, (score - none) / (clear - none)));

/** The anatomical orientation of one 8-bit windowed axial CT slice (see the module comment). */
export function estimateAnatomicalOrientation(image: ArrayLike<number>, width: number, height: number, found: LungMask = lungMask(image, width, height)): AnatomicalOrientation {
  const abstain = (reason: string, posterior: CueReading = { confidence: 0 }, left: CueReading = { confidence: 0 }): AnatomicalOrientation => ({ confidence: 0, posterior, left, reason });
  const arrangement = lungArrangement(found);
  if (!arrangement) return abstain('two lungs of comparable size not found');
  const frame = frameOf(arrangement, width);
  const n = width * height;
  // Lung a lies at low s, lung b at high s.
  const lungs = found.lungs.map((l) => ({ label: l.label, pixels: l.pixels, s: arrangement === 'side-by-side' ? l.cx : l.cy, t: arrangement === 'side-by-side' ? l.cy : l.cx }));
  lungs.sort((p, q) => p.s - q.s);
  const [a, b] = lungs as [(typeof lungs)[0], (typeof lungs)[0]];
  const s0 = (a.s + b.s) / 2;
  const half = (b.s - a.s) / 2;
  const t0 = (a.t + b.t) / 2;

  // Soft tissue's grey level: the median of the bright (tissue) class outside the lungs.
  const tissue = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) if (!found.mask[i] && image[i]! > found.threshold) tissue[count++] = image[i]!;
  const tissueLevel = median(tissue, count);
  if (255 - tissueLevel < 24) return abstain(`the window leaves soft tissue (grey ${tissueLevel}) too close to white to see bone`);
  const boneLevel = tissueLevel + 0.5 * (255 - tissueLevel);
  const bone = new Uint8Array(n);
  for (let i = 0; i < n; i++) bone[i] = !found.mask[i] && image[i]! >= boneLevel ? 1 : 0;
  const { labels, sizes } = connectedComponents(bone, width, height);

  // Bone between the lungs (within half the lungs' half-distance of the middle), each component
  // placed by its pixels in that band: the vertebral body behind the lungs' line, the sternum before.
  const inBand = (i: number) => Math.abs(frame.s(i) - s0) <= 0.5 * half;
  const band = sizes.map(() => ({ pixels: 0, s: 0, t: 0 }));
  for (let i = 0; i < n; i++) {
    if (!labels[i] || !inBand(i)) continue;
    const c = band[labels[i]!]!;
    c.pixels++;
    c.s += frame.s(i);
    c.t += frame.t(i);
  }
  const minBone = Math.max(4, 0.02 * half * half);
  let low = 0;
  let high = 0;
  let vertebra: { pixels: number; s: number; t: number } | undefined;
  for (const c of band) {
    if (c.pixels < minBone) continue;
    const t = c.t / c.pixels;
    if (t < t0) low += c.pixels;
    else high += c.pixels;
    if (!vertebra || c.pixels > vertebra.pixels) vertebra = { pixels: c.pixels, s: c.s / c.pixels, t };
  }
  if (!vertebra) return abstain('no bone between the lungs');
  const posteriorHigh = high > low;
  if (posteriorHigh !== vertebra.t > t0) return abstain('the largest bone between the lungs lies on the side with less bone');
  const vertebraAt = { pixels: vertebra.pixels, ...(arrangement === 'side-by-side' ? { x: vertebra.s, y: vertebra.t } : { x: vertebra.t, y: vertebra.s }) };
  const posterior: CueReading = { edge: frame.tEdges[posteriorHigh ? 1 : 0], confidence: ramp(Math.abs(high - low) / (high + low), 0.2, 0.6) };

  // The soft tissue between the lungs, line by line across the lungs' axis: its mean offset from the
  // vertebra's midline, in lung half-distances (the heart and the descending aorta lie left).
  const lines = arrangement === 'side-by-side' ? height : width;
  const aEnd = new Float64Array(lines).fill(-Infinity);
  const bStart = new Float64Array(lines).fill(Infinity);
  for (let i = 0; i < n; i++) {
    const label = found.labels[i];
    if (!label) continue;
    const t = frame.t(i);
    const s = frame.s(i);
    if (label === a.label) aEnd[t] = Math.max(aEnd[t]!, s);
    else if (label === b.label) bStart[t] = Math.min(bStart[t]!, s);
  }
  let offset = 0;
  let mediastinum = 0;
  for (let i = 0; i < n; i++) {
    if (found.mask[i] || bone[i] || image[i]! <= found.threshold) continue;
    const t = frame.t(i);
    const s = frame.s(i);
    // Only lines crossing both lungs, and only between them (an empty line has -Inf..Inf: skipped).
    if (aEnd[t] === -Infinity || bStart[t] === Infinity || s <= aEnd[t]! || s >= bStart[t]!) continue;
    offset += s - vertebra.s;
    mediastinum++;
  }
  // Without tissue between the lungs (a slice through the liver dome or the apices) lung size alone
  // would decide, and there the right lung is often the smaller: no answer.
  if (mediastinum === 0) return { ...abstain('no soft tissue between the lungs', posterior), vertebra: vertebraAt };
  const heart = offset / mediastinum / half;
  // The right lung is the larger: a positive share says lung a (low s) is the right one.
  const larger = (a.pixels - b.pixels) / (a.pixels + b.pixels);
  const leftScore = heart + larger;
  const left: CueReading = { edge: frame.sEdges[leftScore > 0 ? 1 : 0], confidence: ramp(Math.abs(leftScore), 0.03, 0.15) };

  const cues = { bone: (high - low) / (high + low), heart, lungs: larger };
  const confidence = Math.min(posterior.confidence, left.confidence);
  if (posterior.confidence < MIN_CONFIDENCE) return { ...abstain('the spine is not clearly on one side', posterior, left), cues, vertebra: vertebraAt };
  if (left.confidence < MIN_CONFIDENCE) return { ...abstain('the heart is not clearly on one side', posterior, left), cues, vertebra: vertebraAt };
  const edges: EdgeLabels = { top: '', bottom: '', left: '', right: '' };
  const opposite: Record<Edge, Edge> = { top: 'bottom', bottom: 'top', left: 'right', right: 'left' };
  edges[posterior.edge!] = 'P';
  edges[opposite[posterior.edge!]] = 'A';
  edges[left.edge!] = 'L';
  edges[opposite[left.edge!]] = 'R';
  return { orientation: orientationShowing(edges)!, confidence, posterior, left, cues, vertebra: vertebraAt };
}

/** A dataset-level majority over sampled slices' estimates. */
export interface OrientationVote {
  /** The orientation most slices agree on, when it is a clear majority (absent otherwise). */
  orientation?: Orientation;
  /** Votes per orientation (`formatOrientation` spelling), most first. */
  votes: { orientation: string; slices: number }[];
  /** Slices looked at, and how many of them abstained. */
  sampled: number;
  abstained: number;
}

/** At least this many slices must agree, and at least twice as many as for any other orientation. */
export const MIN_AGREEING = 3;

export function voteOrientation(estimates: readonly AnatomicalOrientation[]): OrientationVote {
  const counts = new Map<string, { orientation: Orientation; slices: number }>();
  let abstained = 0;
  for (const e of estimates) {
    if (!e.orientation) {
      abstained++;
      continue;
    }
    const key = formatOrientation(e.orientation);
    const entry = counts.get(key) ?? { orientation: e.orientation, slices: 0 };
    entry.slices++;
    counts.set(key, entry);
  }
  const ranked = [...counts].sort((p, q) => q[1].slices - p[1].slices || p[0].localeCompare(q[0]));
  const votes = ranked.map(([orientation, { slices }]) => ({ orientation, slices }));
  const first = ranked[0]?.[1];
  const second = ranked[1]?.[1].slices ?? 0;
  const clear = first !== undefined && first.slices >= MIN_AGREEING && first.slices >= 2 * second;
  return { ...(clear ? { orientation: first.orientation } : {}), votes, sampled: estimates.length, abstained };
}
