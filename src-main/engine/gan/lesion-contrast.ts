import { greyToHu, type HuWindow } from '../datasets/hu-window';

/**
 * The window through which PNG grey levels are read back as HU-like values: the one the public
 * Kaggle frames appear to use (air black at -1000 HU, soft tissue light grey), which is also the
 * built-in sample's (`SAMPLE_WINDOW`). Grey g stands for -1000 + g * 1400 / 255 HU.
 */
export const PNG_HU_WINDOW: HuWindow = { level: -300, width: 1400 };

/** Below this (HU-like) a pixel is air or aerated lung: what the lung mask is grown from. */
export const AERATED_BELOW_HU = -400;

/**
 * Lung region of a slice without a lung label: aerated pixels (< -400 HU) that do not connect to the
 * image border through aerated pixels (that air is outside the body), plus the lesion itself (which
 * is denser, but lies in the lung). `[height, width]` 0/1.
 */
export function lungRegion(image: Uint8Array, mask: Uint8Array, width: number, height: number, window: HuWindow = PNG_HU_WINDOW): Uint8Array {
  const n = width * height;
  const aerated = new Uint8Array(n);
  for (let i = 0; i < n; i++) aerated[i] = greyToHu(image[i]!, window) < AERATED_BELOW_HU ? 1 : 0;
  // Flood fill from the border over aerated pixels: the air around the patient.
  const outside = new Uint8Array(n);
  const stack: number[] = [];
  const push = (i: number) => {
    if (aerated[i] && !outside[i]) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < width; x++) {
    push(x);
    push((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    push(y * width);
    push(y * width + width - 1);
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    if (x > 0) push(i - 1);
    if (x < width - 1) push(i + 1);
    if (i >= width) push(i - width);
    if (i < n - width) push(i + width);
  }
  const lung = new Uint8Array(n);
  for (let i = 0; i < n; i++) lung[i] = (aerated[i] && !outside[i]) || mask[i] ? 1 : 0;
  return lung;
}

/** Fewer pixels than this on either side make the contrast meaningless. */
const MIN_PIXELS = 4;

/**
 * Mean HU-like intensity inside the lesion minus the mean of the rest of the lung, or null when the
 * mask is empty or the lung around it too small. Positive for real COVID lesions (ground-glass and
 * consolidation are denser than aerated lung); near zero or negative means the generator painted a
 * mask where the image shows no lesion.
 */
export function lesionContrast(image: Uint8Array, mask: Uint8Array, width: number, height: number, window: HuWindow = PNG_HU_WINDOW): number | null {
  const lung = lungRegion(image, mask, width, height, window);
  let inside = 0;
  let insideCount = 0;
  let outside = 0;
  let outsideCount = 0;
  for (let i = 0; i < lung.length; i++) {
    if (!lung[i]) continue;
    const hu = greyToHu(image[i]!, window);
    if (mask[i]) {
      inside += hu;
      insideCount++;
    } else {
      outside += hu;
      outsideCount++;
    }
  }
  if (insideCount < MIN_PIXELS || outsideCount < MIN_PIXELS) return null;
  return inside / insideCount - outside / outsideCount;
}
