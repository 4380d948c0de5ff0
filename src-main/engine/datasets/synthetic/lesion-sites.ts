import type { Random } from '../../random/seeded-random';

export type LesionKind = 'ground-glass' | 'mixed' | 'consolidation';

/** One lesion of a patient, spanning several slices (`zCentre` +- `zExtent` in slice position 0..1). */
export interface LesionSite {
  lung: 0 | 1;
  /** Angle around the lung centre and relative radial position (close to 1 = subpleural). */
  angle: number;
  radial: number;
  radius: number;
  zCentre: number;
  zExtent: number;
  kind: LesionKind;
  /** HU added to the parenchyma for ground-glass; low values make hard, faint lesions. */
  glassContrast: number;
  /** Seed of the border noise, so a lesion keeps its shape from slice to slice. */
  shapeSeed: number;
}

/** COVID-19 pneumonia presents peripheral and posterior, mostly ground-glass, sometimes consolidating. */
export function sampleLesionSites(random: Random, healthy: boolean): LesionSite[] {
  if (healthy) return [];
  const count = 2 + random.int(8);
  const sites: LesionSite[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random.next();
    const kind: LesionKind = roll < 0.62 ? 'ground-glass' : roll < 0.9 ? 'mixed' : 'consolidation';
    // Bias the angle towards the posterior (+y, angle pi/2) where dependent lesions cluster.
    const posterior = random.chance(0.6);
    sites.push({
      lung: random.chance(0.5) ? 0 : 1,
      angle: posterior ? Math.PI / 2 + random.uniform(-1.2, 1.2) : random.uniform(0, Math.PI * 2),
      radial: random.uniform(0.62, 0.98),
      radius: random.uniform(0.04, 0.2),
      zCentre: random.uniform(0, 1),
      zExtent: random.uniform(0.6, 1.1),
      kind,
      glassContrast: random.uniform(110, 430),
      shapeSeed: random.int(2 ** 31),
    });
  }
  return sites;
}
