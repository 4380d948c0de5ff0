import { windowHu, type HuWindow } from '../datasets/hu-window';
import type { NiftiVolume } from '../datasets/nifti-volume';
import type { GrayImage } from '../imaging/gray-image';

/**
 * Axial slice k of a volume as the datasets show it to a model: windowed to 8 bits, row 0 = the
 * highest j (see nifti-dataset.ts and dicom-dataset.ts).
 */
export function axialSlice(volume: NiftiVolume, k: number, window: HuWindow): GrayImage {
  const [nx, ny] = volume.shape;
  const plane = nx * ny;
  const data = new Uint8Array(plane);
  for (let j = 0; j < ny; j++) {
    const row = (ny - 1 - j) * nx;
    const from = k * plane + j * nx;
    for (let i = 0; i < nx; i++) data[row + i] = windowHu(volume.values[from + i]!, window);
  }
  return { width: nx, height: ny, data };
}

