import { lungSides } from '../../../src-shared/lung-sides';
import { LUNG_WINDOW } from '../datasets/hu-window';
import type { NiftiVolume } from '../datasets/nifti-volume';
import { sliceGeometry } from '../datasets/slice-geometry';
import { lungMask } from '../imaging/lung-mask';
import { axialSlice } from './axial-slice';

/** Lung codes of {@link volumeLungs}: the patient's right lung, left lung, a lung whose side is unknown. */
export const LUNG_RIGHT = 1;
export const LUNG_LEFT = 2;
export const LUNG_SIDE_UNKNOWN = 3;

/**
 * The lungs of a volume, slice by slice: the classical lung mask (imaging/lung-mask.ts) of each axial
 * slice seen through the lung window as the datasets show it (axial-slice.ts), its two lungs named
 * right and left by the affine (src-shared/lung-sides.ts). Returns codes in voxel order
 * (`[i + j * nx + k * nx * ny]`): 0 outside, LUNG_RIGHT, LUNG_LEFT, LUNG_SIDE_UNKNOWN.
 */
export function volumeLungs(volume: NiftiVolume): Uint8Array {
  const [nx, ny, nz] = volume.shape;
  const plane = nx * ny;
  const { edges, spacing } = sliceGeometry(volume.affine);
  const out = new Uint8Array(plane * nz);
  for (let k = 0; k < nz; k++) {
    const image = axialSlice(volume, k, LUNG_WINDOW);
    const labels = lungMask(image.data, nx, ny, { spacing }).labels;
    const sides = lungSides(labels, nx, ny, edges);
    const code = (label: number) => (label === sides.right ? LUNG_RIGHT : label === sides.left ? LUNG_LEFT : LUNG_SIDE_UNKNOWN);
    const codes = [0, code(1), code(2)];
    for (let row = 0; row < ny; row++) {
      const to = k * plane + (ny - 1 - row) * nx;
      for (let i = 0; i < nx; i++) out[to + i] = codes[labels[row * nx + i]!]!;
    }
  }
  return out;
}
