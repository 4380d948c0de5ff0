import { z } from 'zod';

/**
 * How a dataset's slices are turned for display: first a clockwise rotation, then optional mirror
 * flips of the rotated picture (horizontal = left/right swapped, vertical = top/bottom swapped).
 * Pure functions only, shared by the slice browser, the Annotate view, the server and the CLI, so an
 * image, its masks, a prediction and a diff are all turned by the same code.
 */
export interface Orientation {
  rotate: 0 | 90 | 180 | 270;
  flipH: boolean;
  flipV: boolean;
}

export const IDENTITY_ORIENTATION: Orientation = { rotate: 0, flipH: false, flipV: false };

export const orientationSchema = z.object({
  rotate: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  flipH: z.boolean(),
  flipV: z.boolean(),
});

export function isIdentity(o: Orientation): boolean {
  return o.rotate === 0 && !o.flipH && !o.flipV;
}

/** Width and height of a `width` x `height` picture once oriented. */
export function orientedSize(width: number, height: number, o: Orientation): { width: number; height: number } {
  return o.rotate === 90 || o.rotate === 270 ? { width: height, height: width } : { width, height };
}

/**
 * Where the oriented pixel (x, y) comes from in the source picture. The inverse of the display
 * transform, used both to build oriented pixels and to read the value under the cursor.
 */
export function sourcePoint(x: number, y: number, width: number, height: number, o: Orientation): { x: number; y: number } {
  const out = orientedSize(width, height, o);
  // Undo the flips (they act on the rotated picture), then the clockwise rotation.
  const fx = o.flipH ? out.width - 1 - x : x;
  const fy = o.flipV ? out.height - 1 - y : y;
  switch (o.rotate) {
    case 90:
      return { x: fy, y: height - 1 - fx };
    case 180:
      return { x: width - 1 - fx, y: height - 1 - fy };
    case 270:
      return { x: width - 1 - fy, y: fx };
    default:
      return { x: fx, y: fy };
  }
}

/** Where the source pixel (x, y) lands once oriented: the inverse of {@link sourcePoint}. */
export function orientedPoint(x: number, y: number, width: number, height: number, o: Orientation): { x: number; y: number } {
  const out = orientedSize(width, height, o);
  let rx = x;
  let ry = y;
  if (o.rotate === 90) [rx, ry] = [height - 1 - y, x];
  else if (o.rotate === 180) [rx, ry] = [width - 1 - x, height - 1 - y];
  else if (o.rotate === 270) [rx, ry] = [y, width - 1 - x];
  return { x: o.flipH ? out.width - 1 - rx : rx, y: o.flipV ? out.height - 1 - ry : ry };
}

/**
 * Row-major pixels `[height, width, channels]` turned by `o`. Works for any typed array (grey bytes,
 * masks, class maps, RGBA, Float32 HU), so every layer goes through the same mapping.
 */
export type PixelArray = Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Float32Array;

export function orientPixels<T extends PixelArray>(
  data: T,
  width: number,
  height: number,
  o: Orientation,
  channels = 1,
): { data: T; width: number; height: number } {
  const size = orientedSize(width, height, o);
  if (isIdentity(o)) return { data, width, height };
  const out = new (data.constructor as new (length: number) => T)(data.length);
  for (let y = 0; y < size.height; y++) {
    for (let x = 0; x < size.width; x++) {
      const from = sourcePoint(x, y, width, height, o);
      const s = (from.y * width + from.x) * channels;
      const d = (y * size.width + x) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = data[s + c]!;
    }
  }
  return { data: out, width: size.width, height: size.height };
}

/** Anatomical labels at the four edges of a picture (e.g. top 'A', bottom 'P', left 'R', right 'L'). */
export interface EdgeLabels {
  top: string;
  bottom: string;
  left: string;
  right: string;
}

/** The edge labels once the picture is oriented: the markers travel with the anatomy. */
export function orientEdges(edges: EdgeLabels, o: Orientation): EdgeLabels {
  let { top, bottom, left, right } = edges;
  // Clockwise quarter turn: what was on the left goes to the top.
  for (let turn = 0; turn < o.rotate / 90; turn++) [top, right, bottom, left] = [left, top, right, bottom];
  if (o.flipH) [left, right] = [right, left];
  if (o.flipV) [top, bottom] = [bottom, top];
  return { top, bottom, left, right };
}

/** `rot90`, `rot180+flipH`, `none` ... as the CLI takes and prints it. */
export function formatOrientation(o: Orientation): string {
  const parts = [o.rotate ? `rot${o.rotate}` : '', o.flipH ? 'flipH' : '', o.flipV ? 'flipV' : ''].filter(Boolean);
  return parts.length ? parts.join('+') : 'none';
}

/** Parses {@link formatOrientation}'s text; undefined when it is not one. */
export function parseOrientation(text: string): Orientation | undefined {
  const o: Orientation = { ...IDENTITY_ORIENTATION };
  if (text === 'none') return o;
  for (const part of text.split('+')) {
    const rot = /^rot(90|180|270)$/.exec(part);
    if (rot) o.rotate = Number(rot[1]) as Orientation['rotate'];
    else if (part === 'flipH') o.flipH = true;
    else if (part === 'flipV') o.flipV = true;
    else return undefined;
  }
  return o;
}

/** A further clockwise quarter turn of the picture as it is shown now. */
export function rotateClockwise(o: Orientation): Orientation {
  // Flipping one axis reverses the sense of rotation, so a turn of the shown picture adds 270 in source terms.
  const step = o.flipH !== o.flipV ? 270 : 90;
  return { ...o, rotate: ((o.rotate + step) % 360) as Orientation['rotate'] };
}
