import { gzipSync } from 'node:zlib';
import { readNiftiBytes } from '../datasets/nifti-volume';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';

/**
 * Writes a copy of the NIfTI label volume `sourceFile` to `outFile` with some axial slices replaced
 * by edited label maps. Header and extensions are the source's bytes, so the grid, affine (sform
 * and qform), datatype and scaling stay exactly the same; only voxel values of edited slices change.
 *
 * `slices` maps k to a label map in the loader's slice coordinates (row 0 is the highest j, see
 * openNifti), so row r is j = ny - 1 - r. Voxels with other labels (e.g. MedSeg's 3, pleural
 * effusion) are kept where the edit says background, and overwritten where it says lesion.
 */
export async function writeEditedLabelVolume(sourceFile: string, outFile: string, slices: Map<number, Uint8Array>): Promise<void> {
  const corrupt = (why: string, cause?: unknown) => new CovsegError('corrupt-file', `not a readable NIfTI label volume (${why})`, { file: sourceFile, fix: 'replace it with a valid .nii or .nii.gz file', cause });
  const { parsed, bytes } = await readNiftiBytes(sourceFile, corrupt);
  const { header, voxOffset, expectedBytes } = parsed;
  const out = Buffer.from(bytes.subarray(0, expectedBytes));
  const [nx, ny, nz] = [header.dims[1]!, header.dims[2]!, (header.dims[0] ?? 0) >= 3 ? (header.dims[3] ?? 1) : 1];
  const slope = header.scl_slope && Number.isFinite(header.scl_slope) ? header.scl_slope : 1;
  const intercept = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  const little = header.littleEndian;
  const code = header.datatypeCode;
  const size = { 2: 1, 256: 1, 4: 2, 512: 2, 8: 4, 768: 4, 16: 4, 64: 8 }[code as 2];
  if (!size) throw new CovsegError('unsupported', `NIfTI datatype ${code} is not supported for label export`, { file: sourceFile, fix: 'convert the label volume to uint8 or int16' });
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const get = (o: number): number =>
    code === 2 ? view.getUint8(o) : code === 256 ? view.getInt8(o) : code === 4 ? view.getInt16(o, little) : code === 512 ? view.getUint16(o, little) : code === 8 ? view.getInt32(o, little) : code === 768 ? view.getUint32(o, little) : code === 16 ? view.getFloat32(o, little) : view.getFloat64(o, little);
  const set = (o: number, v: number): void => {
    if (code === 2) view.setUint8(o, v);
    else if (code === 256) view.setInt8(o, v);
    else if (code === 4) view.setInt16(o, v, little);
    else if (code === 512) view.setUint16(o, v, little);
    else if (code === 8) view.setInt32(o, v, little);
    else if (code === 768) view.setUint32(o, v, little);
    else if (code === 16) view.setFloat32(o, v, little);
    else view.setFloat64(o, v, little);
  };
  const plane = nx * ny;
  for (const [z, labels] of slices) {
    if (z < 0 || z >= nz) throw new CovsegError('size-mismatch', `slice ${z} is outside the volume's ${nz} slices`, { file: sourceFile });
    if (labels.length !== plane) throw new CovsegError('size-mismatch', `edited slice ${z} has ${labels.length} pixels, the volume's slices ${nx}x${ny}`, { file: sourceFile });
    for (let r = 0; r < ny; r++) {
      const j = ny - 1 - r;
      for (let i = 0; i < nx; i++) {
        const o = voxOffset + (z * plane + j * nx + i) * size;
        const old = Math.round(get(o) * slope + intercept);
        const edited = labels[r * nx + i]!;
        const value = edited !== 0 ? edited : old === 1 || old === 2 ? 0 : old;
        if (value !== old) set(o, Math.round((value - intercept) / slope));
      }
    }
  }
  await writeFileAtomic(outFile, /\.gz$/i.test(outFile) ? gzipSync(out) : out);
}
