import sharp from 'sharp';
import type { GrayImage } from './gray-image';

/**
 * Resizes with sharp: `bilinear` for CT intensities, `nearest` for masks and label maps so they stay
 * hard (no new class values appear at borders).
 */
export async function resizeGray(
  image: GrayImage,
  width: number,
  height: number,
  kernel: 'bilinear' | 'nearest',
): Promise<GrayImage> {
  if (image.width === width && image.height === height) return image;
  // sharp's kernels are named after their filters: 'linear' is bilinear interpolation.
  const { data } = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .resize(width, height, { kernel: kernel === 'nearest' ? 'nearest' : 'linear', fit: 'fill' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
