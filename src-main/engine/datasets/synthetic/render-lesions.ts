import { createRandom } from '../../random/seeded-random';
import type { LesionSite } from './lesion-sites';
import type { PatientAnatomy } from './patient-anatomy';
import { valueNoise } from './value-noise';

export interface LesionMaps {
  /** 0 none, 1 ground-glass, 2 consolidation. */
  labels: Uint8Array;
  /** Per-pixel opacity strength in 0..1 for ground-glass (hazy border), used when painting HU. */
  glass: Float32Array;
  glassContrast: Float32Array;
}

/** Shapes the lesions of one slice: irregular blobs clipped to the lungs, kept under `maxLungShare`. */
export function renderLesions(
  size: number,
  anatomy: PatientAnatomy,
  sites: readonly LesionSite[],
  t: number,
  lungScale: number,
  lungMask: Uint8Array,
  maxLungShare = 0.4,
): LesionMaps {
  const half = size / 2;
  let lungPixels = 0;
  for (let i = 0; i < lungMask.length; i++) lungPixels += lungMask[i]!;
  const active = sites.filter((s) => Math.abs(t - s.zCentre) < s.zExtent);
  let shrink = 1;
  for (let attempt = 0; ; attempt++) {
    const maps: LesionMaps = { labels: new Uint8Array(size * size), glass: new Float32Array(size * size), glassContrast: new Float32Array(size * size) };
    let lesionPixels = 0;
    for (const site of active) {
      const lung = anatomy.lungs[site.lung]!;
      const along = (t - site.zCentre) / site.zExtent;
      const radius = site.radius * shrink * Math.sqrt(1 - along * along) * lungScale;
      if (radius * half < 1.5) continue;
      const centreX = lung.cx + site.radial * lung.rx * lungScale * Math.cos(site.angle);
      const centreY = lung.cy + site.radial * lung.ry * lungScale * Math.sin(site.angle);
      const shapeRandom = createRandom(site.shapeSeed);
      const border = valueNoise(size, size, Math.max(3, radius * half * 0.7), shapeRandom);
      const fine = valueNoise(size, size, Math.max(2, radius * half * 0.25), shapeRandom.fork(`slice ${Math.round(t * 1000)}`));
      const x0 = Math.max(0, Math.floor((centreX - radius * 1.8) * half + half));
      const x1 = Math.min(size - 1, Math.ceil((centreX + radius * 1.8) * half + half));
      const y0 = Math.max(0, Math.floor((centreY - radius * 1.8) * half + half));
      const y1 = Math.min(size - 1, Math.ceil((centreY + radius * 1.8) * half + half));
      for (let y = y0; y <= y1; y++) {
        const v = (y + 0.5 - half) / half;
        for (let x = x0; x <= x1; x++) {
          const i = y * size + x;
          if (!lungMask[i]) continue;
          const u = (x + 0.5 - half) / half;
          const f = Math.hypot(u - centreX, v - centreY) / radius + 0.45 * border[i]! + 0.12 * fine[i]!;
          const core = site.kind === 'mixed' ? f < 0.55 : site.kind === 'consolidation' ? f < 0.95 : false;
          const halo = site.kind === 'consolidation' ? f < 1.2 : f < 1;
          if (core) {
            if (maps.labels[i] === 0) lesionPixels++;
            maps.labels[i] = 2;
          } else if (halo) {
            if (maps.labels[i] === 0) {
              lesionPixels++;
              maps.labels[i] = 1;
            }
            // Hazy: strongest inside, half strength at the border, as ground-glass fades into lung.
            const edge = Math.min(1, Math.max(0, (1 - f) / 0.4));
            const strength = 0.5 + 0.5 * edge * edge * (3 - 2 * edge);
            if (strength > maps.glass[i]!) {
              maps.glass[i] = strength;
              maps.glassContrast[i] = site.glassContrast;
            }
          }
        }
      }
    }
    if (lesionPixels <= maxLungShare * lungPixels || attempt >= 8) return maps;
    shrink *= 0.85;
  }
}
