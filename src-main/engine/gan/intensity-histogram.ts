import { greyToHu } from '../datasets/hu-window';
import { PNG_HU_WINDOW } from './lesion-contrast';

/** Bins of the intensity histograms: 32 bins of 8 grey levels (about 44 HU each through the PNG window). */
export const HISTOGRAM_BINS = 32;

/** A grey-level histogram accumulated over many images. */
export class IntensityHistogram {
  readonly counts = new Float64Array(HISTOGRAM_BINS);
  total = 0;

  add(pixels: Uint8Array): void {
    const shift = 8 - Math.log2(HISTOGRAM_BINS);
    for (let i = 0; i < pixels.length; i++) this.counts[pixels[i]! >> shift]!++;
    this.total += pixels.length;
  }

  /** Share of pixels per bin (sums to 1; all zeros when empty). */
  shares(): number[] {
    return Array.from(this.counts, (c) => (this.total === 0 ? 0 : c / this.total));
  }
}

/** HU-like lower edge of each bin (through {@link PNG_HU_WINDOW}), and the upper edge of the last. */
export function histogramEdgesHu(): number[] {
  const step = 256 / HISTOGRAM_BINS;
  return Array.from({ length: HISTOGRAM_BINS + 1 }, (_, b) => Math.round(greyToHu(b * step, PNG_HU_WINDOW)));
}

/**
 * Earth mover's distance between two histograms of shares, in HU: how far, on average, intensity
 * mass must move to turn one into the other (0 for the same distribution).
 */
export function histogramDistanceHu(a: readonly number[], b: readonly number[]): number {
  const binHu = PNG_HU_WINDOW.width / HISTOGRAM_BINS;
  let carried = 0;
  let distance = 0;
  for (let i = 0; i < a.length; i++) {
    carried += a[i]! - b[i]!;
    distance += Math.abs(carried);
  }
  return distance * binHu;
}
