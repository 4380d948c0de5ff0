import { describe, expect, it } from 'vitest';
import { COLOURS, COLOURS_SHOWN_TOGETHER, legendEntries } from '../../../../src-renderer/src/components/slices/overlay-palette';

// Colour-vision deficiency simulation after Machado, Oliveira & Fernandes (IEEE TVCG 2009), severity 1.
const SIMULATION = {
  normal: null,
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
} as const;

const toLinear = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);

/** CIELAB of an sRGB colour seen through the simulation (D65). */
function lab(rgb: readonly number[], matrix: readonly (readonly number[])[] | null): number[] {
  let linear = rgb.map(toLinear);
  if (matrix) linear = matrix.map((row) => Math.min(1, Math.max(0, row[0]! * linear[0]! + row[1]! * linear[1]! + row[2]! * linear[2]!)));
  const [r, g, b] = linear as [number, number, number];
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

const distance = (a: readonly number[], b: readonly number[], matrix: readonly (readonly number[])[] | null) => {
  const [p, q] = [lab(a, matrix), lab(b, matrix)];
  return Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
};

describe('overlay palette', () => {
  it('keeps every group of colours shown together apart for normal, deuteranopic and protanopic vision', () => {
    for (const group of COLOURS_SHOWN_TOGETHER) {
      for (const [vision, matrix] of Object.entries(SIMULATION)) {
        for (let i = 0; i < group.length; i++) {
          for (let j = i + 1; j < group.length; j++) {
            const d = distance(COLOURS[group[i]!], COLOURS[group[j]!], matrix);
            expect(d, `${group[i]} vs ${group[j]} (${vision})`).toBeGreaterThan(20);
          }
        }
      }
    }
  });

  it('draws the truth without classes in its own colour, not the true-positive green, and ground-glass apart from false negatives', () => {
    expect(COLOURS.lesion).not.toEqual(COLOURS.truePositive);
    for (const matrix of Object.values(SIMULATION)) {
      expect(distance(COLOURS.lesion, COLOURS.truePositive, matrix)).toBeGreaterThan(20);
      expect(distance(COLOURS.groundGlass, COLOURS.falseNegative, matrix)).toBeGreaterThan(20);
    }
  });

  it('lists exactly the layers on screen', () => {
    const none = { truth: false, prediction: false, diff: false, lung: false, hasLabels: false, hasPrediction: false, predictedClasses: false };
    expect(legendEntries(none)).toEqual([]);
    expect(legendEntries({ ...none, truth: true }).map((e) => e.colour)).toEqual(['lesion']);
    expect(legendEntries({ ...none, truth: true, hasLabels: true }).map((e) => e.colour)).toEqual(['groundGlass', 'consolidation']);
    // A prediction layer switched on but no run chosen shows nothing.
    expect(legendEntries({ ...none, prediction: true, diff: true })).toEqual([]);
    expect(legendEntries({ ...none, diff: true, hasPrediction: true }).map((e) => e.colour)).toEqual(['truePositive', 'falsePositive', 'falseNegative']);
    expect(legendEntries({ ...none, diff: true, hasPrediction: true, hasLabels: true, predictedClasses: true })).toHaveLength(6);
    expect(legendEntries({ ...none, lung: true }).map((e) => e.colour)).toEqual(['lung']);
    // A slice whose lung a person corrected says so (the panel's figures divide by that lung).
    expect(legendEntries({ ...none, lung: true }).map((e) => e.label)).toEqual(['lung mask (computed)']);
    expect(legendEntries({ ...none, lung: true, lungCorrected: true }).map((e) => e.label)).toEqual(['lung: corrected by you']);
  });
});
