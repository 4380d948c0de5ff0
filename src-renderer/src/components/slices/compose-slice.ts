import type { LayerName } from '../../stores/viewer';
import { COLOURS } from './overlay-palette';

export interface ComposeInput {
  width: number;
  height: number;
  image: Uint8Array;
  truth: Uint8Array;
  labels: Uint8Array | null;
  prediction: Uint8Array | null;
  /** True when `prediction` is a class map (0/1/2) from a three-class run rather than a 0/1 mask. */
  predictedClasses?: boolean;
  layers: Record<LayerName, { visible: boolean; opacity: number }>;
  outline: boolean;
  /**
   * Window/level: the values to show (Hounsfield units where known, else the grey levels of `image`)
   * and the window to show them through. Without a window the image bytes are shown as stored.
   */
  values?: ArrayLike<number> | null;
  window?: { width: number; level: number };
  /** The computed lung mask, drawn as an outline when given. */
  lung?: Uint8Array | null;
}

export { COLOURS } from './overlay-palette';

/**
 * Difference-layer colour of one pixel. Without classes: TP, FP or FN. With true and predicted class
 * maps: right class (TP), lesion where there is none (FP), missed ground-glass (FN), missed
 * consolidation, ground-glass called consolidation, consolidation called ground-glass.
 */
export function differenceColour(truth: number, predicted: number, classes: boolean): readonly number[] | null {
  if (truth === 0 && predicted === 0) return null;
  if (truth === 0) return COLOURS.falsePositive;
  if (predicted === 0) return classes && truth === 2 ? COLOURS.missedConsolidation : COLOURS.falseNegative;
  if (!classes || truth === predicted) return COLOURS.truePositive;
  return truth === 1 ? COLOURS.groundGlassAsConsolidation : COLOURS.consolidationAsGroundGlass;
}

function edge(mask: Uint8Array, width: number, height: number, i: number): boolean {
  const x = i % width;
  const y = (i - x) / width;
  return x === 0 || y === 0 || x === width - 1 || y === height - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width];
}

/** RGBA pixels of a slice with its overlays, at the slice's own resolution. */
export function composeSlice(input: ComposeInput): Uint8ClampedArray {
  const { width, height, image, truth, labels, prediction, layers, outline, window: win, lung } = input;
  const values = input.values ?? image;
  const byClass = Boolean(input.predictedClasses && labels);
  const low = win ? win.level - win.width / 2 : 0;
  const gray = win ? (i: number) => ((values[i]! - low) / win.width) * 255 : (i: number) => image[i]!;
  const out = new Uint8ClampedArray(width * height * 4);
  const blend = (o: number, colour: readonly number[], alpha: number) => {
    out[o] = out[o]! * (1 - alpha) + colour[0]! * alpha;
    out[o + 1] = out[o + 1]! * (1 - alpha) + colour[1]! * alpha;
    out[o + 2] = out[o + 2]! * (1 - alpha) + colour[2]! * alpha;
  };
  const shown = (mask: Uint8Array, i: number) => mask[i]! > 0 && (!outline || edge(mask, width, height, i));
  for (let i = 0; i < width * height; i++) {
    const o = i * 4;
    out[o] = out[o + 1] = out[o + 2] = gray(i);
    out[o + 3] = 255;
    if (layers.truth.visible && shown(truth, i)) {
      const colour = labels ? (labels[i] === 2 ? COLOURS.consolidation : COLOURS.groundGlass) : COLOURS.lesion;
      blend(o, colour, layers.truth.opacity);
    }
    if (prediction && layers.prediction.visible && shown(prediction, i)) {
      const colour = input.predictedClasses ? (prediction[i] === 2 ? COLOURS.consolidation : COLOURS.groundGlass) : COLOURS.prediction;
      blend(o, colour, layers.prediction.opacity);
    }
    if (prediction && layers.diff.visible) {
      const colour = byClass ? differenceColour(labels![i]!, prediction[i]!, true) : differenceColour(truth[i]! > 0 ? 1 : 0, prediction[i]! > 0 ? 1 : 0, false);
      if (colour) blend(o, colour, layers.diff.opacity);
    }
    if (lung && lung[i]! > 0 && edge(lung, width, height, i)) blend(o, COLOURS.lung, 1);
  }
  return out;
}

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
