import sharp from 'sharp';
import { requireParameter } from '../errors';
import { ssim, psnr } from '../metrics/image-quality';
import type { Random } from '../random/seeded-random';
import { toBytes, type Sample, type Transform } from './sample';

/** One JPEG round trip of an 8-bit grayscale image at `quality` (1-100), with sharp (libjpeg). */
export async function jpegRoundTrip(image: Uint8Array, width: number, height: number, quality: number): Promise<Uint8Array> {
  const encoded = await sharp(Buffer.from(image.buffer, image.byteOffset, image.byteLength), { raw: { width, height, channels: 1 } })
    .jpeg({ quality, chromaSubsampling: '4:4:4' })
    .toBuffer();
  const { data, info } = await sharp(encoded).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = data[i * info.channels]!;
  return gray;
}


/** JPEG compression at a random quality in `[minQuality, maxQuality]`, image only: a mask is never JPEG-encoded. */
export function randJpeg(options: { prob?: number; minQuality?: number; maxQuality?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  const minQuality = options.minQuality ?? 30;
  const maxQuality = options.maxQuality ?? 90;
  requireParameter(minQuality >= 1 && maxQuality <= 100 && minQuality <= maxQuality, `JPEG quality range must be within 1-100, got ${minQuality}-${maxQuality}`);
  return {
    name: 'RandJpeg',
    apply: async (sample: Sample, random: Random) => {
      if (!random.chance(prob)) return sample;
      const quality = minQuality + random.int(maxQuality - minQuality + 1);
      const bytes = await jpegRoundTrip(toBytes(sample.image), sample.width, sample.height, quality);
      return { ...sample, image: Float32Array.from(bytes) };
    },
  };
}

export type WeatheringJitter = 'none' | 'shift' | 'rescale';

export interface WeatheringOptions {
  /** One quality for every generation ... */
  quality?: number;
  generations?: number;
  /** ... or a schedule: one generation per entry, e.g. [30, 20, 10, 5]. */
  schedule?: number[];
  /**
   * Between generations: none; a shift against the block grid (and back); or a rescale by 0.97 (and back). Re-encoding
   * at one quality converges after a few generations; jitter moves the 8x8 block grid, so loss keeps
   * accumulating as it does for images re-saved, cropped and resized in the wild.
   */
  jitter?: WeatheringJitter;
  /** Compute PSNR/SSIM per generation (default true; training skips it). */
  measure?: boolean;
}

export interface WeatheringGeneration {
  generation: number;
  quality: number;
  image: Uint8Array;
  /** Against the original. */
  psnr: number;
  ssim: number;
}

function shift(image: Uint8Array, width: number, height: number, d: number): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.min(width - 1, Math.max(0, x - d));
      const sy = Math.min(height - 1, Math.max(0, y - d));
      out[y * width + x] = image[sy * width + sx]!;
    }
  }
  return out;
}

async function resize(image: Uint8Array, from: [number, number], to: [number, number]): Promise<Uint8Array> {
  const { data } = await sharp(Buffer.from(image), { raw: { width: from[0], height: from[1], channels: 1 } })
    .resize(to[0], to[1], { kernel: 'linear', fit: 'fill' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** One weathering generation: optional jitter, a JPEG round trip, back to the original grid. */
async function generation(image: Uint8Array, width: number, height: number, quality: number, jitter: WeatheringJitter, k: number): Promise<Uint8Array> {
  if (jitter === 'shift') {
    // Content moves against JPEG's 8x8 block grid by a phase that cycles through 1..7 px, then moves
    // back: the picture stays in place while each generation quantises differently aligned blocks.
    const offset = 1 + ((k - 1) % 7);
    const encoded = await jpegRoundTrip(shift(image, width, height, offset), width, height, quality);
    return shift(encoded, width, height, -offset);
  }
  if (jitter === 'rescale') {
    const small: [number, number] = [Math.round(width * 0.97), Math.round(height * 0.97)];
    const encoded = await jpegRoundTrip(await resize(image, [width, height], small), small[0], small[1], quality);
    return resize(encoded, small, [width, height]);
  }
  return jpegRoundTrip(image, width, height, quality);
}

/**
 * Digital weathering: re-encodes an image as JPEG generation after generation (quality 30 repeated
 * 4/18/30 times, or a schedule such as 30-20-10-5), recording PSNR and SSIM against the original at
 * every generation.
 */
export async function weatherImage(image: Uint8Array, width: number, height: number, options: WeatheringOptions = {}): Promise<WeatheringGeneration[]> {
  const schedule = options.schedule ?? Array.from({ length: options.generations ?? 4 }, () => options.quality ?? 30);
  requireParameter(schedule.length >= 1 && schedule.length <= 1000, `weathering needs 1-1000 generations, got ${schedule.length}`);
  requireParameter(schedule.every((q) => Number.isInteger(q) && q >= 1 && q <= 100), `JPEG qualities must be integers 1-100, got ${schedule.join(',')}`);
  const jitter = options.jitter ?? 'none';
  const out: WeatheringGeneration[] = [];
  let current = image;
  for (let k = 1; k <= schedule.length; k++) {
    const quality = schedule[k - 1]!;
    current = await generation(current, width, height, quality, jitter, k);
    const measured = options.measure ?? true;
    out.push({ generation: k, quality, image: current, psnr: measured ? psnr(image, current) : NaN, ssim: measured ? ssim(image, current, width, height) : NaN });
  }
  return out;
}

/** DigitalWeathering as a transform: the image after the last generation; the mask untouched. */
export function digitalWeathering(options: WeatheringOptions & { prob?: number } = {}): Transform {
  const prob = options.prob ?? 0.5;
  requireParameter(prob >= 0 && prob <= 1, `prob must be in [0, 1], got ${prob}`);
  return {
    name: 'DigitalWeathering',
    apply: async (sample, random) => {
      if (!random.chance(prob)) return sample;
      const generations = await weatherImage(toBytes(sample.image), sample.width, sample.height, { ...options, measure: false });
      return { ...sample, image: Float32Array.from(generations.at(-1)!.image) };
    },
  };
}
