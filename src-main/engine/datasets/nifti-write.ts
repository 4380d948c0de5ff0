import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { gzipSync, createGunzip } from 'node:zlib';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';

/** NIfTI-1 header size and the offset of the voxels in a single-file (`n+1`) volume. */
const NIFTI1_HEADER = 348;
const NIFTI1_VOX_OFFSET = 352;
const DT_UINT8 = 2;
const INTENT_LABEL = 1002;
const XFORM_SCANNER = 1;
const UNITS_MM = 2;

/**
 * The first 348 bytes of a little-endian NIfTI-1 file (gunzipped), or undefined for anything else
 * (NIfTI-2, big endian): those are written from the affine instead.
 */
export async function readNifti1HeaderBytes(file: string): Promise<Buffer | undefined> {
  const handle = await open(file, 'r');
  let gzipped: boolean;
  try {
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
  const source = createReadStream(file);
  const stream: Readable = gzipped ? source.pipe(createGunzip()) : source;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= NIFTI1_HEADER) break;
    }
  } finally {
    source.destroy();
    if (stream !== source) stream.destroy();
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length < NIFTI1_HEADER || bytes.readInt32LE(0) !== NIFTI1_HEADER) return undefined;
  return Buffer.from(bytes.subarray(0, NIFTI1_HEADER));
}

/**
 * The NIfTI quaternion form of an affine (nifti1_io's mat44_to_quatern, for an orthogonal rotation):
 * quatern b, c, d, the voxel sizes and qfac (-1 when the axes are left-handed).
 */
export function affineToQuaternion(affine: number[][]): { b: number; c: number; d: number; pixdim: [number, number, number]; qfac: 1 | -1 } {
  const column = (c: number) => [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!];
  const norms = [0, 1, 2].map((c) => Math.hypot(...column(c)) || 1) as [number, number, number];
  const r = [0, 1, 2].map((row) => [0, 1, 2].map((c) => affine[row]![c]! / norms[c]!));
  const det =
    r[0]![0]! * (r[1]![1]! * r[2]![2]! - r[1]![2]! * r[2]![1]!) -
    r[0]![1]! * (r[1]![0]! * r[2]![2]! - r[1]![2]! * r[2]![0]!) +
    r[0]![2]! * (r[1]![0]! * r[2]![1]! - r[1]![1]! * r[2]![0]!);
  const qfac = det > 0 ? 1 : -1;
  if (qfac < 0) for (let row = 0; row < 3; row++) r[row]![2] = -r[row]![2]!;
  const [r11, r12, r13] = r[0]! as [number, number, number];
  const [r21, r22, r23] = r[1]! as [number, number, number];
  const [r31, r32, r33] = r[2]! as [number, number, number];
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, pixdim: norms, qfac };
}

/** A fresh NIfTI-1 header whose qform and sform both hold `affine` (scanner coordinates, mm). */
function headerFromAffine(affine: number[][]): Buffer {
  const header = Buffer.alloc(NIFTI1_HEADER);
  header.writeInt32LE(NIFTI1_HEADER, 0);
  const q = affineToQuaternion(affine);
  header.writeFloatLE(q.qfac, 76);
  for (let d = 0; d < 3; d++) header.writeFloatLE(q.pixdim[d]!, 80 + 4 * d);
  header.writeUInt8(UNITS_MM, 123);
  header.writeInt16LE(XFORM_SCANNER, 252);
  header.writeInt16LE(XFORM_SCANNER, 254);
  header.writeFloatLE(q.b, 256);
  header.writeFloatLE(q.c, 260);
  header.writeFloatLE(q.d, 264);
  for (let r = 0; r < 3; r++) {
    header.writeFloatLE(affine[r]![3]!, 268 + 4 * r);
    for (let c = 0; c < 4; c++) header.writeFloatLE(affine[r]![c]!, 280 + 16 * r + 4 * c);
  }
  return header;
}

/** What {@link writeLabelNifti} writes. */
export interface LabelVolume {
  shape: [number, number, number];
  /** 4x4 voxel-to-world matrix, RAS mm; used when there is no template header. */
  affine: number[][];
  /** Label of voxel (i, j, k) at `labels[i + j * nx + k * nx * ny]`. */
  labels: Uint8Array;
  /** Header bytes of the source NIfTI-1 volume: its qform, sform, pixdim and units are kept as they are. */
  template?: Buffer;
  /** Largest label value, for the display range (cal_max). */
  maxLabel: number;
}

/**
 * Writes a uint8 label volume as single-file NIfTI-1 (gzipped when `file` ends in `.gz`), atomically.
 * With a template the source's geometry fields are copied byte for byte, so a viewer overlays the
 * labels on the source exactly; otherwise qform and sform are both written from the affine.
 */
export async function writeLabelNifti(file: string, volume: LabelVolume): Promise<void> {
  const [nx, ny, nz] = volume.shape;
  if (volume.labels.length !== nx * ny * nz) throw new CovsegError('internal', `label volume has ${volume.labels.length} voxels, its shape ${volume.shape.join(' x ')} needs ${nx * ny * nz}`);
  if (Math.max(nx, ny, nz) > 32767) throw new CovsegError('unsupported', `a NIfTI-1 dimension is at most 32767, got ${volume.shape.join(' x ')}`, { file });
  const header = volume.template ? Buffer.from(volume.template) : headerFromAffine(volume.affine);
  header.writeInt16LE(3, 40);
  header.writeInt16LE(nx, 42);
  header.writeInt16LE(ny, 44);
  header.writeInt16LE(nz, 46);
  for (let d = 4; d <= 7; d++) header.writeInt16LE(1, 40 + 2 * d);
  for (let p = 0; p < 3; p++) header.writeFloatLE(0, 56 + 4 * p);
  header.writeInt16LE(INTENT_LABEL, 68);
  header.writeInt16LE(DT_UINT8, 70);
  header.writeInt16LE(8, 72);
  header.writeFloatLE(NIFTI1_VOX_OFFSET, 108);
  header.writeFloatLE(1, 112);
  header.writeFloatLE(0, 116);
  header.writeFloatLE(volume.maxLabel, 124);
  header.writeFloatLE(0, 128);
  header.fill(0, 148, 228);
  header.write('covseg predicted labels', 148, 'latin1');
  header.write('n+1\0', 344, 'latin1');
  const body = Buffer.concat([header, Buffer.alloc(NIFTI1_VOX_OFFSET - NIFTI1_HEADER), Buffer.from(volume.labels.buffer, volume.labels.byteOffset, volume.labels.length)]);
  await writeFileAtomic(file, /\.gz$/i.test(file) ? gzipSync(body) : body);
}
