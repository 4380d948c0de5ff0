import type { LesionBurden } from '../../../src-shared/contract/studies';

/** Why `lungInvolvedPercent` is null: it needs the lung volume, which a lung mask will give. */
export const LUNG_INVOLVED_NOTE = 'needs lung mask';

/** Volume of one voxel in mm^3: |det| of the affine's 3x3 part. */
export function voxelVolumeMm3(affine: number[][]): number {
  const m = affine;
  const det =
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
    m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
    m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  return Math.abs(det);
}

/**
 * Lesion burden of a label volume (`labels[i + j * nx + k * nx * ny]`, 0 background): per class
 * voxels and mL, the axial (k) slices holding any lesion, and their fraction of all slices.
 * `classNames[v]` names label value v (index 0 is background).
 */
export function lesionBurden(labels: Uint8Array, shape: [number, number, number], affine: number[][], classNames: readonly string[]): LesionBurden {
  const [nx, ny, nz] = shape;
  const plane = nx * ny;
  const counts = new Array<number>(classNames.length).fill(0);
  let slicesInvolved = 0;
  for (let k = 0; k < nz; k++) {
    let involved = false;
    for (let n = k * plane; n < (k + 1) * plane; n++) {
      const value = labels[n]!;
      if (value === 0) continue;
      involved = true;
      counts[value] = (counts[value] ?? 0) + 1;
    }
    if (involved) slicesInvolved++;
  }
  const voxelVolumeMl = voxelVolumeMm3(affine) / 1000;
  const classes = classNames.slice(1).map((name, index) => ({ value: index + 1, name, voxels: counts[index + 1]!, volumeMl: counts[index + 1]! * voxelVolumeMl }));
  const lesionVoxels = classes.reduce((sum, c) => sum + c.voxels, 0);
  return {
    voxelVolumeMl,
    classes,
    lesionVoxels,
    lesionVolumeMl: lesionVoxels * voxelVolumeMl,
    slicesInvolved,
    slices: nz,
    fractionSlicesInvolved: nz > 0 ? slicesInvolved / nz : 0,
    lungInvolvedPercent: null,
    lungInvolvedNote: LUNG_INVOLVED_NOTE,
  };
}

/** Header of {@link burdenCsvLine}'s columns. */
export const BURDEN_CSV_HEADER = 'input,run,engine,voxel_ml,lesion_ml,ground_glass_ml,consolidation_ml,slices_involved,slices,fraction_slices_involved,lung_involved_percent';

/** One CSV line per study (columns of {@link BURDEN_CSV_HEADER}); a lesion-only run leaves the class columns empty. */
export function burdenCsvLine(input: string, run: string, engine: string, burden: LesionBurden): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const ml = (name: string) => {
    const found = burden.classes.find((c) => c.name === name);
    return found ? found.volumeMl.toFixed(3) : '';
  };
  return [
    quote(input),
    quote(run),
    quote(engine),
    burden.voxelVolumeMl.toPrecision(6),
    burden.lesionVolumeMl.toFixed(3),
    ml('ground-glass'),
    ml('consolidation'),
    burden.slicesInvolved,
    burden.slices,
    burden.fractionSlicesInvolved.toFixed(4),
    burden.lungInvolvedPercent === null ? '' : burden.lungInvolvedPercent.toFixed(2),
  ].join(',');
}
