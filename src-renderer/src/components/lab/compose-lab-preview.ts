import { COLOURS } from '../slices/overlay-palette';

/** The slice browser's default truth opacity, so a class looks the same in the Lab and the browser. */
export const TARGET_OPACITY = 0.5;

export interface LabPreviewPixels {
  width: number;
  height: number;
  /** Row-major `[height, width]` grey levels. */
  image: Uint8Array;
  /** Lesion share of the target, 0..255. */
  mask: Uint8Array;
  /** One plane per foreground class (ground-glass, consolidation), each that class's share 0..255; null without class labels. */
  classes: Uint8Array[] | null;
}

/**
 * RGBA pixels of a Lab preview: the slice with its (augmented) target in the slice browser's palette.
 * With class planes each pixel takes the class colours weighted by their shares, at the truth
 * opacity times the lesion share: a hard target looks exactly as the truth layer of the slice
 * browser; a soft one (MixUp) is a blend of the two colours, fainter where the target is below 1.
 * Without classes the lesion colour is used the same way.
 */
export function composeLabPreview(p: LabPreviewPixels): Uint8ClampedArray<ArrayBuffer> {
  const n = p.width * p.height;
  const out = new Uint8ClampedArray(n * 4);
  const [groundGlass, consolidation] = p.classes ?? [];
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const grey = p.image[i]!;
    out[o] = out[o + 1] = out[o + 2] = grey;
    out[o + 3] = 255;
    let colour: readonly number[] = COLOURS.lesion;
    let share = p.mask[i]! / 255;
    if (groundGlass && consolidation) {
      const g = groundGlass[i]! / 255;
      const c = consolidation[i]! / 255;
      share = Math.min(1, g + c);
      if (share > 0) colour = [0, 1, 2].map((k) => (g * COLOURS.groundGlass[k]! + c * COLOURS.consolidation[k]!) / (g + c));
    }
    if (share <= 0) continue;
    const alpha = TARGET_OPACITY * share;
    for (let k = 0; k < 3; k++) out[o + k] = grey * (1 - alpha) + colour[k]! * alpha;
  }
  return out;
}
