import type { Random } from '../../random/seeded-random';

/**
 * Shape parameters of one synthetic patient, in normalised image units (the image spans -1..1 in
 * both axes; +y is posterior, +x is the patient's left as radiologists display it).
 */
export interface PatientAnatomy {
  body: { a: number; b: number; fat: number; muscle: number; wobblePhase: number; wobble: number };
  lungs: { cx: number; cy: number; rx: number; ry: number; hu: number }[];
  heart: { cx: number; cy: number; rx: number; ry: number };
  spineY: number;
  noiseHu: number;
}

export function samplePatientAnatomy(random: Random): PatientAnatomy {
  const a = random.uniform(0.86, 0.95);
  const b = random.uniform(0.62, 0.74);
  const lungHu = random.uniform(-885, -830);
  const lung = (side: -1 | 1) => ({
    cx: side * random.uniform(0.36, 0.42) * (a / 0.86),
    cy: random.uniform(-0.04, 0.03),
    rx: random.uniform(0.25, 0.3) * (a / 0.86),
    ry: random.uniform(0.4, 0.47) * (b / 0.62),
    hu: lungHu + random.uniform(-15, 15),
  });
  return {
    body: { a, b, fat: random.uniform(0.03, 0.09), muscle: random.uniform(0.04, 0.065), wobblePhase: random.uniform(0, Math.PI * 2), wobble: random.uniform(0.01, 0.04) },
    lungs: [lung(-1), lung(1)],
    heart: { cx: random.uniform(0.05, 0.12), cy: random.uniform(-0.06, 0.04), rx: random.uniform(0.24, 0.3), ry: random.uniform(0.21, 0.26) },
    spineY: b * random.uniform(0.72, 0.8),
    noiseHu: random.uniform(18, 40),
  };
}
