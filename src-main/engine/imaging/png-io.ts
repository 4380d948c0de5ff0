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
    if (code === 'ENOENT') {
      throw new CovsegError('not-found', 'image file does not exist', { file, fix: 'check the path' });
    }
    throw new CovsegError('corrupt-file', `cannot decode image (${(error as Error).message.split('\n')[0]})`, {
      file,
      fix: 'replace the file with a valid PNG, or remove it together with its pair',
      cause: error,
    });
  }
}

/** Encodes a grayscale image as an 8-bit single-channel PNG (deterministic bytes for equal input). */
export async function encodeGrayPng(image: GrayImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
