import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_INPUT_PIXELS, readGray } from '../../../../src-main/engine/imaging/png-io';
import { writeGrayPng } from '../../../fixtures/gray-png';
import { tempDir } from '../../../fixtures/temp-dir';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG whose header declares `width` x `height` 8-bit gray pixels, with only its first row of data.
 * sharp checks its pixel limit on the header, before decoding, so this stands for a real oversized
 * scan without 400 MB of test data.
 */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}

describe('readGray', () => {
  it('reports an image above the pixel limit as too large, with its size and a fix, not as corrupt', async () => {
    const file = join(await tempDir(), 'huge.png');
    await writeFile(file, pngHeader(20_000, 20_000));
    expect(20_000 * 20_000).toBeGreaterThan(MAX_INPUT_PIXELS);
    const error = await readGray(file).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'too-large', file });
    expect((error as Error).message).toBe('image is too large to decode: 20000x20000 px (400 megapixels); the limit is 268 megapixels');
    expect((error as { fix: string }).fix).toMatch(/downscale it/);
  });

  it('still calls a damaged file corrupt and a missing one missing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.png'), 'not a png');
    await expect(readGray(join(dir, 'bad.png'))).rejects.toMatchObject({ code: 'corrupt-file' });
    await expect(readGray(join(dir, 'none.png'))).rejects.toMatchObject({ code: 'not-found' });
    await writeGrayPng(join(dir, 'ok.png'), 4, 3, (x) => x);
    expect(await readGray(join(dir, 'ok.png'))).toMatchObject({ width: 4, height: 3 });
  });
});
