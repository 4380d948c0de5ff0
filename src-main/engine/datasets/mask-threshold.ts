/**
 * Turns a stored mask into 0/1. Masks of the Kaggle layout are 0/255 and are thresholded at > 127;
 * masks stored as 0/1 (max value 1) are taken as they are, since thresholding them would erase
 * every lesion.
 */
export function binarizeMask(stored: Uint8Array): { mask: Uint8Array; nonBinaryPixels: number; zeroOne: boolean } {
  let max = 0;
  for (let i = 0; i < stored.length; i++) if (stored[i]! > max) max = stored[i]!;
  const zeroOne = max === 1;
  const threshold = zeroOne ? 0 : 127;
  const mask = new Uint8Array(stored.length);
  let nonBinaryPixels = 0;
  for (let i = 0; i < stored.length; i++) {
    const v = stored[i]!;
    mask[i] = v > threshold ? 1 : 0;
    if (v !== 0 && v !== 255 && !(zeroOne && v === 1)) nonBinaryPixels++;
  }
  return { mask, nonBinaryPixels, zeroOne };
}
