import type { LesionBurden, LungBurden } from '../../../src-shared/contract/studies';
import { LUNG_LEFT, LUNG_RIGHT } from './volume-lungs';

/** How `lungInvolvedPercent` is measured, and why it is null when it is. */
export const LUNG_INVOLVED_NOTE = 'lesion inside the lung mask computed from the CT, slice by slice';
export const NO_LUNG_NOTE = 'no lung found in the CT';

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
 * `classNames[v]` names label value v (index 0 is background). With `lungs` (same voxel order:
 * 0 outside, {@link LUNG_RIGHT}, {@link LUNG_LEFT}, or 3 for lung of unknown side; volume-lungs.ts),
 * also the lung volume, the percent of it that is lesion, per class and per lung.
 */
export function lesionBurden(labels: Uint8Array, shape: [number, number, number], affine: number[][], classNames: readonly string[], lungs?: Uint8Array): LesionBurden {
  const [nx, ny, nz] = shape;
  const plane = nx * ny;
  const counts = new Array<number>(classNames.length).fill(0);
  // [lung code][label value]: voxels; label value 0 counts the lung itself.
  const inLung = [0, 1, 2, 3].map(() => new Array<number>(classNames.length).fill(0));
  let slicesInvolved = 0;
  for (let k = 0; k < nz; k++) {
    let involved = false;
    for (let n = k * plane; n < (k + 1) * plane; n++) {
      const value = labels[n]!;
      const lung = lungs ? lungs[n]! : 0;
      if (lung) {
        inLung[lung]![0]!++;
        if (value !== 0) inLung[lung]![value] = (inLung[lung]![value] ?? 0) + 1;
      }
      if (value === 0) continue;
      involved = true;
      counts[value] = (counts[value] ?? 0) + 1;
    }
    if (involved) slicesInvolved++;
  }
  const voxelVolumeMl = voxelVolumeMm3(affine) / 1000;
  const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);
  const lungVoxels = inLung[1]![0]! + inLung[2]![0]! + inLung[3]![0]!;
  const lungClassVoxels = (value: number) => inLung[1]![value]! + inLung[2]![value]! + inLung[3]![value]!;
  const classes = classNames.slice(1).map((name, index) => ({
    value: index + 1,
    name,
    voxels: counts[index + 1]!,
    volumeMl: counts[index + 1]! * voxelVolumeMl,
    lungPercent: percent(lungClassVoxels(index + 1), lungVoxels),
  }));
  const lesionVoxels = classes.reduce((sum, c) => sum + c.voxels, 0);
  const lungOf = (side: LungBurden['side'], code: number): LungBurden => {
    const own = inLung[code]!;
    const lesion = own.slice(1).reduce((sum, v) => sum + v, 0);
    return {
      side,
      voxels: own[0]!,
      volumeMl: own[0]! * voxelVolumeMl,
      lesionVolumeMl: lesion * voxelVolumeMl,
      involvedPercent: percent(lesion, own[0]!),
      classes: classes.map((c) => ({ value: c.value, name: c.name, volumeMl: own[c.value]! * voxelVolumeMl, percent: percent(own[c.value]!, own[0]!) })),
    };
  };
  const lesionInLungs = classes.reduce((sum, c) => sum + lungClassVoxels(c.value), 0);
  return {
    voxelVolumeMl,
    classes,
    lesionVoxels,
    lesionVolumeMl: lesionVoxels * voxelVolumeMl,
    slicesInvolved,
    slices: nz,
    fractionSlicesInvolved: nz > 0 ? slicesInvolved / nz : 0,
    lungInvolvedPercent: percent(lesionInLungs, lungVoxels),
    lungInvolvedNote: lungVoxels > 0 ? LUNG_INVOLVED_NOTE : NO_LUNG_NOTE,
    lungVolumeMl: lungVoxels > 0 ? lungVoxels * voxelVolumeMl : null,
    lungs: [lungOf('right', LUNG_RIGHT), lungOf('left', LUNG_LEFT)],
  };
}

/** Header of {@link burdenCsvLine}'s columns. */
export const BURDEN_CSV_HEADER =
  'input,run,engine,voxel_ml,lesion_ml,ground_glass_ml,consolidation_ml,slices_involved,slices,fraction_slices_involved,lung_involved_percent,' +
  'lung_ml,right_lung_ml,left_lung_ml,right_lung_involved_percent,left_lung_involved_percent,' +
  'ground_glass_lung_percent,consolidation_lung_percent,right_ground_glass_percent,right_consolidation_percent,left_ground_glass_percent,left_consolidation_percent';

/** One CSV line per study (columns of {@link BURDEN_CSV_HEADER}); a lesion-only run leaves the class columns empty. */
export function burdenCsvLine(input: string, run: string, engine: string, burden: LesionBurden): string {
  const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const ml = (name: string) => {
    const found = burden.classes.find((c) => c.name === name);
    return found ? found.volumeMl.toFixed(3) : '';
  };
  const pct = (value: number | null | undefined) => (value === null || value === undefined ? '' : value.toFixed(2));
  const lung = (side: LungBurden['side']) => burden.lungs.find((l) => l.side === side);
  const classPct = (name: string) => pct(burden.classes.find((c) => c.name === name)?.lungPercent);
  const sidePct = (side: LungBurden['side'], name: string) => pct(lung(side)?.classes.find((c) => c.name === name)?.percent);
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
    pct(burden.lungInvolvedPercent),
    burden.lungVolumeMl === null ? '' : burden.lungVolumeMl.toFixed(3),
    lung('right')?.volumeMl.toFixed(3) ?? '',
    lung('left')?.volumeMl.toFixed(3) ?? '',
    pct(lung('right')?.involvedPercent),
    pct(lung('left')?.involvedPercent),
    classPct('ground-glass'),
    classPct('consolidation'),
    sidePct('right', 'ground-glass'),
    sidePct('right', 'consolidation'),
    sidePct('left', 'ground-glass'),
    sidePct('left', 'consolidation'),
  ].join(',');
}
