import type { LungSides } from './lung-sides';

/**
 * Lesion measurements of one slice, shared by the app's panel and `covseg measure` so both report
 * the same numbers. Masks are `[height, width]` row-major bytes.
 */
export interface SliceMeasurementInput {
  width: number;
  height: number;
  /** Lesion mask (> 0 is lesion) or class map (1 ground-glass, 2 consolidation). */
  lesion: ArrayLike<number>;
  /** Class map of the same slice when known (0/1/2); a class-map `lesion` serves as its own. */
  classes?: ArrayLike<number> | null;
  /** Computed lungs: 0 outside, 1 the lung on the image's left, 2 the one on its right. */
  lung?: ArrayLike<number> | null;
  /** Pixel size in mm [column, row] when the source knows it (NIfTI, DICOM). */
  spacing?: readonly number[] | null;
  /** Which lung of `lung` is the patient's right and left (lung-sides.ts); unknown when absent. */
  sides?: LungSides | null;
}

/** Lung pixels and the lesion pixels inside them. */
export interface LungCount {
  lungPixels: number;
  lesionPixels: number;
}

export interface SliceMeasurement {
  lesionPixels: number;
  /** mm^2, when the pixel size is known. */
  lesionAreaMm2: number | null;
  groundGlassPixels: number;
  consolidationPixels: number;
  /** Shares of the lesion, when classes are known and there is lesion. */
  groundGlassShare: number | null;
  consolidationShare: number | null;
  lungPixels: number;
  /** Lesion inside the computed lungs / lung pixels; null without lungs. */
  lungInvolved: number | null;
  /** Per lung (image left, image right): lung pixels and lesion pixels inside it. */
  lungs: LungCount[];
  /** The patient's right and left lung (see lung-sides.ts); null where the side is unknown. */
  rightLung: LungCount | null;
  leftLung: LungCount | null;
}

export function measureSlice(input: SliceMeasurementInput): SliceMeasurement {
  const n = input.width * input.height;
  const classes = input.classes ?? null;
  const lungs: LungCount[] = [
    { lungPixels: 0, lesionPixels: 0 },
    { lungPixels: 0, lesionPixels: 0 },
  ];
  let lesion = 0;
  let groundGlass = 0;
  let consolidation = 0;
  for (let i = 0; i < n; i++) {
    const value = input.lesion[i]!;
    const cls = classes ? classes[i]! : value > 2 ? 0 : value;
    const isLesion = value > 0;
    if (isLesion) {
      lesion++;
      if (classes || value <= 2) {
        if (cls === 1) groundGlass++;
        else if (cls === 2) consolidation++;
      }
    }
    const lung = input.lung ? input.lung[i]! : 0;
    if (lung > 0 && lung <= 2) {
      lungs[lung - 1]!.lungPixels++;
      if (isLesion) lungs[lung - 1]!.lesionPixels++;
    }
  }
  const classified = groundGlass + consolidation;
  const hasClasses = Boolean(classes) && classified > 0;
  const lungPixels = lungs[0]!.lungPixels + lungs[1]!.lungPixels;
  const spacing = input.spacing && input.spacing.length >= 2 ? input.spacing : null;
  return {
    lesionPixels: lesion,
    lesionAreaMm2: spacing ? lesion * spacing[0]! * spacing[1]! : null,
    groundGlassPixels: groundGlass,
    consolidationPixels: consolidation,
    groundGlassShare: hasClasses ? groundGlass / classified : null,
    consolidationShare: hasClasses ? consolidation / classified : null,
    lungPixels,
    lungInvolved: lungPixels > 0 ? (lungs[0]!.lesionPixels + lungs[1]!.lesionPixels) / lungPixels : null,
    lungs,
    rightLung: input.sides?.right ? lungs[input.sides.right - 1]! : null,
    leftLung: input.sides?.left ? lungs[input.sides.left - 1]! : null,
  };
}
