import type { Dataset, SliceRef } from '../datasets/types';
import type { GrayImage } from '../imaging/gray-image';
import { resizeGray } from '../imaging/resize';
import { ssim } from '../metrics/image-quality';
import { IntensityHistogram } from './intensity-histogram';

/** Side of the thumbnails the prefilter compares (sum of squared grey differences). */
export const PREFILTER_SIZE = 32;
/** Candidates from the prefilter that get an exact SSIM. */
export const PREFILTER_TOP_K = 5;
/** SSIM and pixel distance are computed at most at this size (both images resized bilinearly). */
export const COMPARE_MAX_SIZE = 128;
/** A generated image this similar (SSIM) to a training image is flagged as a near-copy. */
export const NEAR_COPY_SSIM = 0.95;

export interface NearestMatch {
  id: string;
  ssim: number;
  /** Mean absolute grey difference, 0..1. */
  l1: number;
}

/**
 * The real training images, ready for nearest-neighbour queries: a 32 x 32 thumbnail of each in one
 * flat array (so the prefilter is one pass over memory), full images loaded again only for the few
 * candidates a query keeps. Building it also gathers the real intensity histogram and lesion
 * contrasts, since every slice is decoded once here anyway.
 */
export class RealImageIndex {
  private readonly thumbs: Float32Array;
  private readonly cache = new Map<string, GrayImage>();

  private constructor(
    private readonly dataset: Dataset,
    readonly refs: SliceRef[],
    thumbs: Float32Array,
    readonly histogram: IntensityHistogram,
  ) {
    this.thumbs = thumbs;
  }

  static async build(dataset: Dataset, ids: readonly string[], onSlice?: (image: GrayImage, mask: Uint8Array) => void): Promise<RealImageIndex> {
    const byId = new Map(dataset.slices.map((s) => [s.id, s]));
    const refs = ids.map((id) => byId.get(id)).filter((r): r is SliceRef => r !== undefined);
    const area = PREFILTER_SIZE * PREFILTER_SIZE;
    const thumbs = new Float32Array(refs.length * area);
    const histogram = new IntensityHistogram();
    for (let r = 0; r < refs.length; r++) {
      const slice = await dataset.load(refs[r]!);
      const image = { width: slice.width, height: slice.height, data: slice.image };
      histogram.add(slice.image);
      onSlice?.(image, slice.mask);
      thumbs.set((await resizeGray(image, PREFILTER_SIZE, PREFILTER_SIZE, 'bilinear')).data, r * area);
    }
    return new RealImageIndex(dataset, refs, thumbs, histogram);
  }

  get size(): number {
    return this.refs.length;
  }

  /** Indices of the `k` real thumbnails closest (squared grey difference) to `thumb`. */
  private prefilter(thumb: Uint8Array, k: number): number[] {
    const area = PREFILTER_SIZE * PREFILTER_SIZE;
    const best: { index: number; distance: number }[] = [];
    for (let r = 0; r < this.refs.length; r++) {
      let distance = 0;
      const offset = r * area;
      for (let i = 0; i < area; i++) {
        const d = this.thumbs[offset + i]! - thumb[i]!;
        distance += d * d;
      }
      if (best.length < k || distance < best[best.length - 1]!.distance) {
        best.push({ index: r, distance });
        best.sort((a, b) => a.distance - b.distance);
        if (best.length > k) best.pop();
      }
    }
    return best.map((b) => b.index);
  }

  private async realAt(index: number, size: number): Promise<GrayImage> {
    const key = `${index}@${size}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const slice = await this.dataset.load(this.refs[index]!);
    const image = await resizeGray({ width: slice.width, height: slice.height, data: slice.image }, size, size, 'bilinear');
    if (this.cache.size >= 1024) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, image);
    return image;
  }

  /**
   * The training image most similar to `image`: the prefilter keeps the `k` closest thumbnails, and
   * among those the highest SSIM (at min(image size, 128), both resized bilinearly) wins. A planted
   * copy is always among the candidates, since its thumbnail distance is 0.
   */
  async nearest(image: GrayImage, k = PREFILTER_TOP_K): Promise<NearestMatch | null> {
    if (this.refs.length === 0) return null;
    const thumb = (await resizeGray(image, PREFILTER_SIZE, PREFILTER_SIZE, 'bilinear')).data;
    const size = Math.min(COMPARE_MAX_SIZE, Math.max(image.width, image.height));
    const generated = await resizeGray(image, size, size, 'bilinear');
    let best: NearestMatch | null = null;
    for (const index of this.prefilter(thumb, k)) {
      const real = await this.realAt(index, size);
      const score = ssim(generated.data, real.data, size, size);
      if (best && score <= best.ssim) continue;
      let l1 = 0;
      for (let i = 0; i < real.data.length; i++) l1 += Math.abs(real.data[i]! - generated.data[i]!);
      best = { id: this.refs[index]!.id, ssim: score, l1: l1 / real.data.length / 255 };
    }
    return best;
  }
}
