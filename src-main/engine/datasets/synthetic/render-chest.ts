import type { Random } from '../../random/seeded-random';
import { gaussianBlur } from '../../imaging/gaussian-blur';
import type { LesionSite } from './lesion-sites';
import type { PatientAnatomy } from './patient-anatomy';
import { renderLesions } from './render-lesions';
import { fractalNoise, valueNoise } from './value-noise';

/** One rendered axial slice: HU values, lung mask and lesion classes, all `[size, size]` row-major. */
export interface RenderedSlice {
  hu: Float32Array;
  lungMask: Uint8Array;
  labels: Uint8Array;
}

const AIR = -1000;
const FAT = -100;
const MUSCLE = 50;
const SOFT = 38;
const BLOOD = 42;
const BONE_CORTEX = 900;
const BONE_MARROW = 280;

/**
 * Renders an axial chest CT slice at relative height `t` (0 = lung apex side, 1 = base) of a
 * synthetic patient, in Hounsfield units. Every random draw comes from `random`.
 */
export function renderChestSlice(anatomy: PatientAnatomy, sites: readonly LesionSite[], t: number, size: number, random: Random): RenderedSlice {
  const half = size / 2;
  const px = size / 256; // feature sizes in pixels are tuned at 256 px
  const hu = new Float32Array(size * size).fill(AIR);
  const lungMask = new Uint8Array(size * size);
  const { body } = anatomy;
  const lungScale = 0.8 + 0.24 * Math.sin(Math.PI * (0.15 + 0.7 * t));
  const heartScale = 0.5 + 0.6 * t;
  const boundaryNoise = valueNoise(size, size, 24 * px, random.fork('lung border'));
  const texture = fractalNoise(size, size, 10 * px, 3, random.fork('texture'));

  const bodyRadius = (u: number, v: number, inset: number): number => {
    const a = body.a - inset;
    const b = body.b - inset;
    const theta = Math.atan2(v / b, u / a);
    const wobble = 1 + body.wobble * Math.sin(2 * theta + body.wobblePhase) + 0.5 * body.wobble * Math.sin(5 * theta + 2 * body.wobblePhase);
    const p = v > 0 ? 3.2 : 2.3; // the back lies flat on the table
    return (Math.abs(u / a) ** p + Math.abs(v / b) ** p) ** (1 / p) / wobble;
  };

  const heart = { cx: anatomy.heart.cx, cy: anatomy.heart.cy + 0.08 * (1 - t), rx: anatomy.heart.rx * heartScale, ry: anatomy.heart.ry * heartScale };
  const aorta = { cx: 0.13 * (body.a / 0.86), cy: anatomy.spineY - 0.13, r: 0.055 };
  const vertebra = { cx: 0, cy: anatomy.spineY - 0.04, r: 0.095 };
  const canal = { cx: 0, cy: anatomy.spineY + 0.09, r: 0.04 };
  const trachea = t < 0.32 ? [{ cx: 0, cy: anatomy.spineY - 0.27, r: 0.055 }] : t < 0.5 ? [-1, 1].map((s) => ({ cx: s * 0.11, cy: anatomy.spineY - 0.25, r: 0.034 })) : [];

  for (let y = 0; y < size; y++) {
    const v = (y + 0.5 - half) / half;
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5 - half) / half;
      const i = y * size + x;
      if (bodyRadius(u, v, 0) >= 1) continue;
      let value = FAT;
      if (bodyRadius(u, v, body.fat) < 1) value = MUSCLE;
      const inCavity = bodyRadius(u, v, body.fat + body.muscle) < 1;
      if (inCavity) value = SOFT;
      const inHeart = ((u - heart.cx) / heart.rx) ** 2 + ((v - heart.cy) / heart.ry) ** 2 < 1;
      if (inHeart) value = BLOOD;
      const dAorta = Math.hypot(u - aorta.cx, v - aorta.cy);
      if (dAorta < aorta.r) value = BLOOD;
      const dVertebra = Math.hypot(u - vertebra.cx, v - vertebra.cy);
      if (dVertebra < vertebra.r) value = dVertebra > vertebra.r - 0.018 ? BONE_CORTEX : BONE_MARROW;
      const dCanal = Math.hypot(u - canal.cx, v - canal.cy);
      if (dCanal < canal.r + 0.022 && v > vertebra.cy) value = dCanal < canal.r ? 20 : BONE_CORTEX * 0.8;
      let inAirway = false;
      for (const airway of trachea) {
        const d = Math.hypot(u - airway.cx, v - airway.cy);
        if (d < airway.r) {
          value = d < airway.r - 0.012 ? AIR : 30;
          inAirway = true;
        }
      }
      hu[i] = value;
      if (!inCavity || inHeart || inAirway || dAorta < aorta.r + 0.02 || dVertebra < vertebra.r + 0.05 || dCanal < canal.r + 0.06) continue;
      if (Math.abs(u) < 0.085 + 0.04 * (v < 0 ? 1 : 0)) continue; // mediastinum and sternum
      for (const lung of anatomy.lungs) {
        const q = ((u - lung.cx) / (lung.rx * lungScale)) ** 2 + ((v - lung.cy) / (lung.ry * lungScale)) ** 2;
        if (q < 1 + 0.12 * boundaryNoise[i]!) {
          lungMask[i] = 1;
          // Dependent (posterior) lung is a little denser; fine texture mimics interstitium.
          hu[i] = lung.hu + 45 * ((v - lung.cy) / lung.ry) + 14 * texture[i]!;
        }
      }
    }
  }

  paintRibs(hu, size, anatomy, random);
  const lesions = renderLesions(size, anatomy, sites, t, lungScale, lungMask);
  const lesionTexture = fractalNoise(size, size, 6 * px, 2, random.fork('lesion texture'));
  for (let i = 0; i < hu.length; i++) {
    if (lesions.glass[i]! > 0) hu[i]! += lesions.glassContrast[i]! * lesions.glass[i]! * (0.85 + 0.3 * lesionTexture[i]!);
  }
  const vessels = vesselCoverage(size, anatomy, lungScale, lungMask, random);
  for (let i = 0; i < hu.length; i++) {
    if (lungMask[i] && vessels[i]! > 0) hu[i] = hu[i]! * (1 - vessels[i]!) + BLOOD * vessels[i]!;
  }
  paintBronchi(hu, size, anatomy, lungScale, lungMask, random);
  for (let i = 0; i < hu.length; i++) {
    // Consolidation is dense enough to hide the vessels that ground-glass lets through.
    if (lesions.labels[i] === 2) hu[i] = -25 + 45 * lesionTexture[i]!;
  }
  addScannerNoise(hu, size, anatomy.noiseHu, random);
  return { hu, lungMask, labels: lesions.labels };
}

function paintRibs(hu: Float32Array, size: number, anatomy: PatientAnatomy, random: Random): void {
  const half = size / 2;
  const { body } = anatomy;
  const count = 14;
  for (let k = 0; k < count; k++) {
    const theta = (k / count) * Math.PI * 2 + random.uniform(-0.08, 0.08);
    const cu = Math.cos(theta);
    const sv = Math.sin(theta);
    if (sv < -0.85 && Math.abs(cu) < 0.35) continue; // sternum gap at the front
    const radial = 1 - (body.fat + body.muscle * 0.6) / Math.min(body.a, body.b);
    const cx = body.a * radial * cu;
    const cy = body.b * radial * sv * 0.97;
    const ra = random.uniform(0.03, 0.045);
    const rb = random.uniform(0.014, 0.02);
    const tangent = Math.atan2(body.b * cu, -body.a * sv);
    const cosT = Math.cos(tangent);
    const sinT = Math.sin(tangent);
    const x0 = Math.max(0, Math.floor((cx - ra) * half + half) - 1);
    const x1 = Math.min(size - 1, Math.ceil((cx + ra) * half + half) + 1);
    const y0 = Math.max(0, Math.floor((cy - ra) * half + half) - 1);
    const y1 = Math.min(size - 1, Math.ceil((cy + ra) * half + half) + 1);
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const du = (x + 0.5 - half) / half - cx;
        const dv = (y + 0.5 - half) / half - cy;
        const along = du * cosT + dv * sinT;
        const across = -du * sinT + dv * cosT;
        const q = (along / ra) ** 2 + (across / rb) ** 2;
        if (q < 1) hu[y * size + x] = q > 0.45 ? BONE_CORTEX * 0.85 : BONE_MARROW;
      }
    }
  }
}

/** Partial-volume coverage (0..1) of pulmonary vessels: in-plane branches from each hilum plus cross-sections. */
function vesselCoverage(size: number, anatomy: PatientAnatomy, lungScale: number, lungMask: Uint8Array, random: Random): Float32Array {
  const half = size / 2;
  const px = size / 256;
  const cover = new Float32Array(size * size);
  const segment = (ax: number, ay: number, bx: number, by: number, widthPx: number) => {
    const [pax, pay, pbx, pby] = [ax * half + half, ay * half + half, bx * half + half, by * half + half];
    const r = widthPx / 2 + 1;
    const x0 = Math.max(0, Math.floor(Math.min(pax, pbx) - r));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(pax, pbx) + r));
    const y0 = Math.max(0, Math.floor(Math.min(pay, pby) - r));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(pay, pby) + r));
    const dx = pbx - pax;
    const dy = pby - pay;
    const len2 = dx * dx + dy * dy || 1;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * size + x;
        if (!lungMask[i]) continue;
        const qx = x + 0.5 - pax;
        const qy = y + 0.5 - pay;
        const s = Math.max(0, Math.min(1, (qx * dx + qy * dy) / len2));
        const d = Math.hypot(qx - s * dx, qy - s * dy);
        const c = Math.max(0, Math.min(1, widthPx / 2 - d + 0.5));
        if (c > cover[i]!) cover[i] = c;
      }
    }
  };
  const branch = (x: number, y: number, angle: number, length: number, widthPx: number, depth: number) => {
    const ex = x + Math.cos(angle) * length;
    const ey = y + Math.sin(angle) * length;
    segment(x, y, ex, ey, widthPx);
    if (depth <= 0 || widthPx < 0.5) return;
    const spread = random.uniform(0.3, 0.7);
    branch(ex, ey, angle - spread + random.uniform(-0.15, 0.15), length * random.uniform(0.6, 0.8), widthPx * 0.72, depth - 1);
    branch(ex, ey, angle + spread + random.uniform(-0.15, 0.15), length * random.uniform(0.6, 0.8), widthPx * 0.72, depth - 1);
  };
  for (const lung of anatomy.lungs) {
    const side = Math.sign(lung.cx);
    const hilumX = lung.cx - side * 0.55 * lung.rx * lungScale;
    const hilumY = lung.cy + random.uniform(-0.05, 0.05);
    const outward = side > 0 ? 0 : Math.PI;
    const trunks = 2 + random.int(2);
    for (let k = 0; k < trunks; k++) {
      const angle = outward + random.uniform(-1.3, 1.3);
      branch(hilumX, hilumY, angle, random.uniform(0.05, 0.09) * lungScale, random.uniform(2.2, 3.4) * px, 2);
    }
    // Vessels crossing the slice plane show as dots, larger and denser near the hilum.
    for (let k = 0; k < 120; k++) {
      const rho = Math.sqrt(random.next());
      const phi = random.uniform(0, Math.PI * 2);
      if (random.next() < rho * 0.5) continue;
      const cx = lung.cx + rho * lung.rx * lungScale * Math.cos(phi);
      const cy = lung.cy + rho * lung.ry * lungScale * Math.sin(phi);
      const w = random.uniform(1, 3.6) * (1 - 0.6 * rho) * px;
      segment(cx, cy, cx, cy, w);
    }
  }
  return cover;
}

function paintBronchi(hu: Float32Array, size: number, anatomy: PatientAnatomy, lungScale: number, lungMask: Uint8Array, random: Random): void {
  const half = size / 2;
  const px = size / 256;
  for (const lung of anatomy.lungs) {
    const side = Math.sign(lung.cx);
    for (let k = 0; k < 3; k++) {
      const cx = lung.cx - side * random.uniform(0.25, 0.5) * lung.rx * lungScale;
      const cy = lung.cy + random.uniform(-0.15, 0.15);
      const lumen = random.uniform(1.2, 2.6) * px;
      const wall = 0.9 * px;
      const pcx = cx * half + half;
      const pcy = cy * half + half;
      const r = Math.ceil(lumen + wall + 1);
      for (let y = Math.max(0, Math.floor(pcy) - r); y <= Math.min(size - 1, Math.ceil(pcy) + r); y++) {
        for (let x = Math.max(0, Math.floor(pcx) - r); x <= Math.min(size - 1, Math.ceil(pcx) + r); x++) {
          const i = y * size + x;
          if (!lungMask[i]) continue;
          const d = Math.hypot(x + 0.5 - pcx, y + 0.5 - pcy);
          if (d < lumen) hu[i] = -980;
          else if (d < lumen + wall) hu[i] = -150;
        }
      }
    }
  }
}

/** Slightly correlated Gaussian noise, as reconstruction kernels leave it. */
function addScannerNoise(hu: Float32Array, size: number, sigmaHu: number, random: Random): void {
  const white = new Float32Array(size * size);
  for (let i = 0; i < white.length; i++) white[i] = random.normal();
  const blurred = gaussianBlur({ width: size, height: size, data: white }, 0.6);
  // A 0.6-px blur keeps about 0.47 of white noise's standard deviation.
  const gain = sigmaHu / 0.47;
  for (let i = 0; i < hu.length; i++) hu[i]! += blurred.data[i]! * gain;
}
