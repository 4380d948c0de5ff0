import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
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

/** The largest volume read: 2^28 voxels (e.g. 512 x 512 x 1024), 1 GiB once converted to float. */
export const MAX_NIFTI_VOXELS = 2 ** 28;
/** Voxels converted between two yields to the event loop. */
const CONVERT_SLAB = 2 ** 21;
/** Enough bytes for either header: NIfTI-1 is 348 bytes (+4 extension flag), NIfTI-2 540 (+4). */
const HEADER_BYTES = 544;

export interface ParsedHeader {
  header: ReturnType<typeof nifti.readHeader> & object;
  /** Bytes before the voxels. */
  voxOffset: number;
  /** Bytes the header says the whole (decompressed) file holds. */
  expectedBytes: number;
}

/**
 * Checks a header before any voxel is read: magic, a 3-D shape, a supported datatype, a size
 * within `MAX_NIFTI_VOXELS`. The size it implies bounds the decompression that follows.
 */
function parseHeader(file: string, bytes: Buffer, corrupt: (why: string) => CovsegError): ParsedHeader {
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI(data)) throw corrupt('no NIfTI magic');
  // NIfTI-1 reads its extensions when given more than 368 bytes; they are not needed here.
  const header = nifti.isNIFTI1(data) ? nifti.readHeader(data.slice(0, 352)) : nifti.readHeader(data);
  if (!header) throw corrupt('header unreadable');
  const dims = header.dims;
  const rank = dims[0] ?? 0;
  if (rank < 2 || rank > 7) throw corrupt(`dimension count ${rank} is outside 2-7`);
  const extra = dims.slice(4, rank + 1).filter((n) => n > 1);
  if (rank >= 4 && extra.length > 0) {
    throw new CovsegError('unsupported', `NIfTI volume is ${rank}-D (${dims.slice(1, rank + 1).join(' x ')}: ${dims[4]} frames); CovSeg reads 3-D CT volumes and label maps only`, {
      file,
      fix: 'save the one frame you mean as its own 3-D file (for example nibabel: nib.save(img.slicer[..., 0], "case.nii.gz"), or fslroi in.nii.gz out.nii.gz 0 1)',
    });
  }
  const shape = [dims[1] ?? 0, dims[2] ?? 0, rank >= 3 ? (dims[3] ?? 1) : 1];
  if (shape.some((n) => !Number.isInteger(n) || n < 1)) throw corrupt(`bad dimensions ${dims.slice(1, rank + 1).join('x')}`);
  const Type = DATATYPES[header.datatypeCode];
  if (!Type) {
    throw new CovsegError('unsupported', `NIfTI datatype ${header.datatypeCode} is not supported`, {
      file,
      fix: 'convert the volume to int16 or float32 (for example with nibabel or SimpleITK)',
    });
  }
  const voxels = shape[0]! * shape[1]! * shape[2]!;
  if (voxels > MAX_NIFTI_VOXELS) {
    throw new CovsegError('unsupported', `NIfTI volume has ${voxels.toLocaleString('en')} voxels (${shape.join(' x ')}); CovSeg reads at most ${MAX_NIFTI_VOXELS.toLocaleString('en')}`, {
      file,
      fix: 'crop or resample the volume (for example with SimpleITK), or check that the header dimensions are right',
    });
  }
  const voxOffset = Math.max(Math.round(header.vox_offset), nifti.isNIFTI1(data) ? 352 : 544);
  return { header, voxOffset, expectedBytes: voxOffset + voxels * Type.BYTES_PER_ELEMENT };
}

/**
 * Reads a file's bytes through a stream (gunzipped when it starts with the gzip magic), checking
 * the header as soon as it arrives and stopping at the size that header implies: a gzip bomb
 * (a small file decompressing to gigabytes) is refused after one chunk beyond that size, and the
 * event loop is never held by a whole-file decompression.
 */
export async function readNiftiBytes(file: string, corrupt: (why: string, cause?: unknown) => CovsegError): Promise<{ parsed: ParsedHeader; bytes: Buffer }> {
  let gzipped: boolean;
  try {
    const handle = await open(file, 'r');
    try {
      const magic = Buffer.alloc(2);
      await handle.read(magic, 0, 2, 0);
      gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch {
    throw new CovsegError('not-found', 'NIfTI file cannot be read', { file, fix: 'check the path and permissions' });
  }
  const source = createReadStream(file);
  const stream: Readable = gzipped ? source.pipe(createGunzip()) : source;
  const chunks: Buffer[] = [];
  let total = 0;
  let parsed: ParsedHeader | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (!parsed && total >= HEADER_BYTES) parsed = parseHeader(file, Buffer.concat(chunks), corrupt);
      if (parsed && total > parsed.expectedBytes) {
        // An uncompressed file may carry trailing bytes harmlessly; a gzip stream that inflates past
        // its header's size is a bomb or a damaged file, and reading on could exhaust memory.
        if (!gzipped) break;
        throw new CovsegError('corrupt-file', `NIfTI file decompresses beyond its header size (more than ${parsed.expectedBytes.toLocaleString('en')} bytes for ${parsed.header.dims.slice(1, 4).join(' x ')} voxels)`, {
          file,
          fix: 'the file is damaged or not what its header says: re-export it from the original scan',
        });
      }
    }
  } catch (error) {
    if (error instanceof CovsegError) throw error;
    throw corrupt(gzipped ? 'gzip stream is damaged' : 'read failed', error);
  } finally {
    source.destroy();
    if (stream !== source) stream.destroy();
  }
  const bytes = Buffer.concat(chunks);
  parsed ??= parseHeader(file, bytes, corrupt);
  if (bytes.length < parsed.expectedBytes) throw corrupt('voxel data is shorter than the header says');
  return { parsed, bytes };
}

/** Reads and decodes a 3-D NIfTI-1/2 volume (.nii or .nii.gz), streaming and size-bounded. */
export async function readNifti(file: string): Promise<NiftiVolume> {
  const corrupt = (why: string, cause?: unknown) =>
    new CovsegError('corrupt-file', `not a readable NIfTI volume (${why})`, {
      file,
      fix: 'replace it with a valid .nii or .nii.gz file',
      cause,
    });
  const { parsed, bytes } = await readNiftiBytes(file, corrupt);
  const { header, voxOffset } = parsed;
  const dims = header.dims;
  const nx = dims[1]!;
  const ny = dims[2]!;
  const nz = (dims[0] ?? 0) >= 3 ? (dims[3] ?? 1) : 1;
  const Type = DATATYPES[header.datatypeCode]!;
  const image = bytes.buffer.slice(bytes.byteOffset + voxOffset, bytes.byteOffset + parsed.expectedBytes) as ArrayBuffer;
  const count = nx * ny * nz;
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
  // In slabs, yielding between them: a 512 x 512 x 600 volume never holds a server's event loop for long.
  for (let start = 0; start < count; start += CONVERT_SLAB) {
    if (start > 0) await new Promise((resolveSlab) => setImmediate(resolveSlab));
    const end = Math.min(count, start + CONVERT_SLAB);
    for (let n = start; n < end; n++) values[n] = read(n * size) * slope + intercept;
  }

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

/**
 * {@link readNifti} behind a least-recently-used cache of `capacity` volumes: volumes are large, and
 * sequential slice access needs only the last few (an image and its labels, or two series' labels).
 */
export function cachedNiftiReader(capacity = 2): (file: string) => Promise<NiftiVolume> {
  const cache = new Map<string, NiftiVolume>();
  return async (file) => {
    const hit = cache.get(file);
    if (hit) {
      cache.delete(file);
      cache.set(file, hit);
      return hit;
    }
    const loaded = await readNifti(file);
    cache.set(file, loaded);
    while (cache.size > capacity) cache.delete(cache.keys().next().value!);
    return loaded;
  };
}
