import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNifti } from '../../../../src-main/engine/datasets/nifti-volume';
import { BURDEN_CSV_HEADER, burdenCsvLine, lesionBurden } from '../../../../src-main/engine/studies/lesion-burden';
import { LUNG_LEFT, LUNG_RIGHT, volumeLungs } from '../../../../src-main/engine/studies/volume-lungs';
import { writeNifti } from '../../../fixtures/nifti-writer';
import { tempDir } from '../../../fixtures/temp-dir';

/**
 * An 80 x 64 x 3 phantom at 4 x 4 x 5 mm (0.08 mL a voxel): a soft-tissue body (40 HU) in air, two
 * aerated lungs (-850 HU) as rectangles, 26 x 36 voxels at low i and 24 x 36 at high i, with a
 * mediastinum between them. Lesions: a ground-glass block (-500 HU, 8 x 10) in the low-i lung; a
 * dense consolidation bite (30 HU, a half disc of radius 5) against the chest wall of the high-i
 * lung, which the aerated lung alone does not contain; and consolidation labels in the chest wall,
 * outside both lungs.
 */
const [NX, NY, NZ] = [80, 64, 3];
const inRect = (i: number, j: number, [i0, i1, j0, j1]: number[]) => i >= i0! && i < i1! && j >= j0! && j < j1!;
const BODY = [2, 78, 8, 56];
const LOW_LUNG = [10, 36, 14, 50];
const HIGH_LUNG = [46, 70, 14, 50];
const GLASS = [14, 22, 20, 30];
const WALL_LESION = [72, 76, 30, 34];
const inBite = (i: number, j: number) => inRect(i, j, HIGH_LUNG) && (i - 69.5) ** 2 + (j - 32) ** 2 < 25;

function phantom(): { hu: Float32Array; labels: Uint8Array } {
  const hu = new Float32Array(NX * NY * NZ);
  const labels = new Uint8Array(NX * NY * NZ);
  for (let k = 0; k < NZ; k++) {
    for (let j = 0; j < NY; j++) {
      for (let i = 0; i < NX; i++) {
        const n = i + j * NX + k * NX * NY;
        hu[n] = inRect(i, j, BODY) ? 40 : -1000;
        if (inRect(i, j, LOW_LUNG) || inRect(i, j, HIGH_LUNG)) hu[n] = -850;
        if (inRect(i, j, GLASS)) [hu[n], labels[n]] = [-500, 1];
        if (inBite(i, j)) [hu[n], labels[n]] = [30, 2];
        if (inRect(i, j, WALL_LESION)) labels[n] = 2;
      }
    }
  }
  return { hu, labels };
}

const area = ([i0, i1, j0, j1]: number[]) => (i1! - i0!) * (j1! - j0!);

describe('lesion burden with the lungs from the CT', () => {
  it('gives the lung volume, each lung\'s involvement per class and in mL, as computed by hand', async () => {
    const { hu, labels } = phantom();
    let bite = 0;
    for (let j = 0; j < NY; j++) for (let i = 0; i < NX; i++) if (inBite(i, j)) bite++;
    expect(bite).toBeGreaterThan(30);
    const dir = await tempDir();
    const voxelMl = (4 * 4 * 5) / 1000;
    // i toward the patient's left (-x in RAS): the low-i lung is the patient's right.
    for (const [sign, right, left] of [
      [-1, LOW_LUNG, HIGH_LUNG],
      [1, HIGH_LUNG, LOW_LUNG],
    ] as const) {
      const file = join(dir, `ct${sign}.nii.gz`);
      await writeNifti(file, { shape: [NX, NY, NZ], values: hu, datatype: 'float32', sform: [[4 * sign, 0, 0, 10], [0, 4, 0, -20], [0, 0, 5, 0]] });
      const volume = await readNifti(file);
      const lungs = volumeLungs(volume);
      const burden = lesionBurden(labels, volume.shape, volume.affine, ['background', 'ground-glass', 'consolidation'], lungs);

      // Lung voxels: exactly the two rectangles on every slice, the bite of consolidation included.
      const count = (code: number) => lungs.filter((v) => v === code).length;
      expect(count(LUNG_RIGHT), `sign ${sign}`).toBe(area(right) * NZ);
      expect(count(LUNG_LEFT), `sign ${sign}`).toBe(area(left) * NZ);
      expect(burden.lungVolumeMl).toBeCloseTo((area(LOW_LUNG) + area(HIGH_LUNG)) * NZ * voxelMl, 6);

      const glassInLow = area(GLASS);
      const [rightLung, leftLung] = burden.lungs;
      expect(rightLung!.side).toBe('right');
      expect(leftLung!.side).toBe('left');
      const lowLung = right === LOW_LUNG ? rightLung! : leftLung!;
      const highLung = right === LOW_LUNG ? leftLung! : rightLung!;
      expect(lowLung.volumeMl).toBeCloseTo(area(LOW_LUNG) * NZ * voxelMl, 6);
      expect(lowLung.involvedPercent).toBeCloseTo((100 * glassInLow) / area(LOW_LUNG), 6);
      expect(lowLung.classes.map((c) => c.percent)).toEqual([(100 * glassInLow) / area(LOW_LUNG), 0]);
      expect(highLung.involvedPercent).toBeCloseTo((100 * bite) / area(HIGH_LUNG), 6);
      expect(highLung.classes[1]!.volumeMl).toBeCloseTo(bite * NZ * voxelMl, 6);
      // The chest-wall lesion counts in the lesion volume but not in the lungs.
      const wall = area(WALL_LESION);
      expect(burden.classes[1]!.volumeMl).toBeCloseTo((bite + wall) * NZ * voxelMl, 6);
      expect(burden.classes[1]!.lungPercent).toBeCloseTo((100 * bite) / (area(LOW_LUNG) + area(HIGH_LUNG)), 6);
      expect(burden.lungInvolvedPercent).toBeCloseTo((100 * (glassInLow + bite)) / (area(LOW_LUNG) + area(HIGH_LUNG)), 6);

      const header = BURDEN_CSV_HEADER.split(',');
      const line = burdenCsvLine('ct', 'run', 'tfjs', burden).split(',');
      const cell = (name: string) => line[header.indexOf(name)];
      expect(cell('lung_involved_percent')).toBe(burden.lungInvolvedPercent!.toFixed(2));
      expect(cell('right_lung_ml')).toBe(rightLung!.volumeMl.toFixed(3));
      expect(cell('left_lung_involved_percent')).toBe(leftLung!.involvedPercent!.toFixed(2));
      expect(cell('right_consolidation_percent')).toBe(rightLung!.classes[1]!.percent!.toFixed(2));
    }
  });

  it('says so when no lung is found, and leaves the lung figures empty', () => {
    const labels = new Uint8Array(8 * 8 * 2).fill(1);
    const burden = lesionBurden(labels, [8, 8, 2], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], ['background', 'lesion'], new Uint8Array(128));
    expect(burden.lungInvolvedPercent).toBeNull();
    expect(burden.lungVolumeMl).toBeNull();
    expect(burden.lungInvolvedNote).toMatch(/no lung/);
    expect(burden.lungs.map((l) => l.involvedPercent)).toEqual([null, null]);
  });
});
