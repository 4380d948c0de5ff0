import { readFile } from 'node:fs/promises';
import * as nifti from 'nifti-reader-js';
import { CovsegError } from '../errors';

/** A decoded NIfTI volume: voxel values in scanner units (HU for CT after slope/intercept). */
export interface NiftiVolume {
  file: string;
  /** Voxel counts along i, j, k. */
  shape: [number, number, number];
  /** 4x4 voxel-to-world matrix (sform, else qform, else voxel sizes). */
  affine: number[][];
  /** Value of voxel (i, j, k) is `values[i + j * nx + k * nx * ny]`, scaled by slope/intercept. */
  values: Float32Array;
}

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

// NIfTI-1 datatype codes (nifti1.h) of the scalar types CT volumes use.
const DATATYPES: Record<number, TypedArrayConstructor> = {
  2: Uint8Array,
  4: Int16Array,
  8: Int32Array,
  16: Float32Array,
  64: Float64Array,
  256: Int8Array,
  512: Uint16Array,
  768: Uint32Array,
};

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

/** Reads a header only (still decompresses a .nii.gz). */
export async function readNifti(file: string): Promise<NiftiVolume> {
  let raw: ArrayBuffer;
  try {
    raw = toArrayBuffer(await readFile(file));
  } catch {
    throw new CovsegError('not-found', 'NIfTI file cannot be read', { file, fix: 'check the path and permissions' });
  }
  const corrupt = (why: string, cause?: unknown) =>
    new CovsegError('corrupt-file', `not a readable NIfTI volume (${why})`, {
      file,
      fix: 'replace it with a valid .nii or .nii.gz file',
      cause,
    });
  let data: ArrayBuffer = raw;
  try {
    if (nifti.isCompressed(raw)) data = nifti.decompress(raw) as ArrayBuffer;
  } catch (error) {
    throw corrupt('gzip stream is damaged', error);
  }
  if (!nifti.isNIFTI(data)) throw corrupt('no NIfTI magic');
  let header: ReturnType<typeof nifti.readHeader>;
  let image: ArrayBuffer;
  try {
    header = nifti.readHeader(data);
    image = nifti.readImage(header, data);
  } catch (error) {
    throw corrupt('header or voxel data unreadable', error);
  }
  const dims = header.dims;
  const nx = dims[1] ?? 0;
  const ny = dims[2] ?? 0;
  const nz = (dims[0] ?? 0) >= 3 ? (dims[3] ?? 1) : 1;
  if (nx < 1 || ny < 1 || nz < 1) throw corrupt(`bad dimensions ${dims.join('x')}`);
  const Type = DATATYPES[header.datatypeCode];
  if (!Type) {
    throw new CovsegError('unsupported', `NIfTI datatype ${header.datatypeCode} is not supported`, {
      file,
      fix: 'convert the volume to int16 or float32 (for example with nibabel or SimpleITK)',
    });
  }
  const count = nx * ny * nz;
  if (image.byteLength < count * Type.BYTES_PER_ELEMENT) throw corrupt('voxel data is shorter than the header says');
  const view = new DataView(image);
  const values = new Float32Array(count);
  const slope = header.scl_slope && Number.isFinite(header.scl_slope) ? header.scl_slope : 1;
  const intercept = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  const little = header.littleEndian;
  const size = Type.BYTES_PER_ELEMENT;
  const read: (offset: number) => number = {
    1: Type === Int8Array ? (o: number) => view.getInt8(o) : (o: number) => view.getUint8(o),
    2: Type === Int16Array ? (o: number) => view.getInt16(o, little) : (o: number) => view.getUint16(o, little),
    4:
      Type === Float32Array
        ? (o: number) => view.getFloat32(o, little)
        : Type === Int32Array
          ? (o: number) => view.getInt32(o, little)
          : (o: number) => view.getUint32(o, little),
    8: (o: number) => view.getFloat64(o, little),
  }[size as 1 | 2 | 4 | 8];
  for (let n = 0; n < count; n++) values[n] = read(n * size) * slope + intercept;

  let affine: number[][];
  if (header.sform_code > 0) affine = header.affine.map((row) => row.slice());
  else if (header.qform_code > 0) affine = header.getQformMat();
  else {
    const p = header.pixDims;
    affine = [
      [p[1] || 1, 0, 0, 0],
      [0, p[2] || 1, 0, 0],
      [0, 0, p[3] || 1, 0],
      [0, 0, 0, 1],
    ];
  }
  return { file, shape: [nx, ny, nz], affine, values };
}

/** True when the k voxel axis points mostly head-feet, so k-slices are axial. */
export function isAxialStack(affine: number[][]): boolean {
  const col = [affine[0]![2]!, affine[1]![2]!, affine[2]![2]!].map(Math.abs);
  return col[2]! >= col[0]! && col[2]! >= col[1]!;
}

/** Largest difference between two affines' rotation/scale/translation entries, relative to voxel size. */
export function affineDifference(a: number[][], b: number[][]): number {
  let worst = 0;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) {
      const scale = c < 3 ? Math.max(1e-6, Math.abs(a[r]![c]!), Math.abs(b[r]![c]!), 1) : Math.max(1, Math.abs(a[r]![c]!));
      worst = Math.max(worst, Math.abs(a[r]![c]! - b[r]![c]!) / scale);
    }
  }
  return worst;
}
