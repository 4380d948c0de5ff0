import sharp from 'sharp';

/**
 * One PNG of rows of equal-size gray tiles side by side (mask, real, generated, ...), with a 2-px
 * gap, so a person sees at a glance what the generator makes of each input.
 */
export async function gridPng(rows: Uint8Array[][], size: number): Promise<Buffer> {
  const gap = 2;
  const columns = Math.max(...rows.map((r) => r.length));
  const width = columns * size + (columns - 1) * gap;
  const height = rows.length * size + (rows.length - 1) * gap;
  const canvas = new Uint8Array(width * height).fill(40);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => {
      for (let y = 0; y < size; y++) canvas.set(tile.subarray(y * size, (y + 1) * size), (r * (size + gap) + y) * width + c * (size + gap));
    }),
  );
  return sharp(Buffer.from(canvas.buffer), { raw: { width, height, channels: 1 } }).png({ compressionLevel: 6 }).toBuffer();
}

/** A class map drawn for people: background black, ground-glass grey, consolidation (or any lesion) white. */
export function classMapTile(classMap: Uint8Array, planes: number): Uint8Array {
  return Uint8Array.from(classMap, (c) => (c === 0 ? 0 : planes === 1 ? 255 : c === 1 ? 140 : 255));
}
