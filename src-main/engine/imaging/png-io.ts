import sharp from 'sharp';
import { CovsegError } from '../errors';
import type { GrayImage } from './gray-image';

/**
 * Decodes any image sharp reads (PNG, JPEG, ...) to 8-bit grayscale. Colour inputs are converted
 * with sharp's luminance weights; an alpha channel is dropped.
 */
export async function readGray(file: string): Promise<GrayImage> {
  try {
    const { data, info } = await sharp(file).greyscale().toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) {
      // Images with alpha keep 2 channels after greyscale(); take the gray one.
      const gray = new Uint8Array(info.width * info.height);
      for (let i = 0; i < gray.length; i++) gray[i] = data[i * info.channels]!;
      return { width: info.width, height: info.height, data: gray };
    }
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // sharp reports a missing file in its message, without an errno code.
    if (code === 'ENOENT' || /^Input file is missing/.test((error as Error).message)) {
      throw new CovsegError('not-found', 'image file does not exist', { file, fix: 'check the path' });
    }
    if (/pixel limit/i.test((error as Error).message)) throw await tooLargeError(file, error);
    throw new CovsegError('corrupt-file', `cannot decode image (${(error as Error).message.split('\n')[0]})`, {
      file,
      fix: 'replace the file with a valid PNG, or remove it together with its pair',
      cause: error,
    });
  }
}

/**
 * sharp refuses images above its pixel limit (a guard against decompression bombs) before decoding;
 * the header still tells the size, so the message can say how large the image is.
 */
async function tooLargeError(file: string, cause: unknown): Promise<CovsegError> {
  const limitMegapixels = Math.round(MAX_INPUT_PIXELS / 1e6);
  const { width, height } = await sharp(file, { limitInputPixels: false }).metadata().catch(() => ({ width: undefined, height: undefined }));
  const size = width && height ? `${width}x${height} px (${Math.round((width * height) / 1e6)} megapixels)` : 'larger than the limit';
  return new CovsegError('too-large', `image is too large to decode: ${size}; the limit is ${limitMegapixels} megapixels`, {
    file,
    fix: 'downscale it (CT slices are usually 512x512 px), or remove it together with its pair',
    cause,
  });
}

/** sharp's default `limitInputPixels` (0x3FFF squared), the largest image it decodes. */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/** Encodes a grayscale image as an 8-bit single-channel PNG (deterministic bytes for equal input). */
export async function encodeGrayPng(image: GrayImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
