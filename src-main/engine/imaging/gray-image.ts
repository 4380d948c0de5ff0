/** An 8-bit single-channel image, row-major: `data[y * width + x]`. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A float single-channel field of the same layout, for intermediate computations. */
export interface FloatField {
  width: number;
  height: number;
  data: Float32Array;
}

export function createField(width: number, height: number, fill = 0): FloatField {
  const data = new Float32Array(width * height);
  if (fill !== 0) data.fill(fill);
  return { width, height, data };
}
