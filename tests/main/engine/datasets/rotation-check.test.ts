import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { rotationProblem } from '../../../../src-main/engine/datasets/rotation-check';
import { sliceGeometry } from '../../../../src-main/engine/datasets/slice-geometry';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../../../fixtures/real-data';
import { tempDir } from '../../../fixtures/temp-dir';

const ids = async (root: string) => new Set((await openDataset(root)).slices.map((s) => s.id));

describe('looks-rotated check', () => {
  it('is quiet on upright slices and warns, with the fix, when the same slices are turned by 90 degrees', async () => {
    const upright = await tempDir();
    await writeSyntheticSample(upright, { count: 12, size: 96, seed: 5 });
    expect(await rotationProblem(await openDataset(upright), await ids(upright))).toBeUndefined();
    const turned = await tempDir();
    for (const folder of ['frames', 'masks']) {
      await mkdir(join(turned, folder), { recursive: true });
      for (const name of await readdir(join(upright, folder))) await sharp(join(upright, folder, name)).rotate(90).toFile(join(turned, folder, name));
    }
    const problem = await rotationProblem(await openDataset(turned), await ids(turned));
    expect(problem).toMatchObject({ severity: 'warning', code: 'looks-rotated' });
    expect(problem!.fix).toMatch(/covseg dataset orient .* --orientation rot90/);
  });

  it.skipIf(!HAVE_REAL_DATA)('warns on the real MedSeg slices (published turned by 90 degrees)', async () => {
    expect((await rotationProblem(await openDataset(REAL_DATA_DIR), await ids(REAL_DATA_DIR)))?.code).toBe('looks-rotated');
  });

  it('reads side markers and pixel size from a volume affine', () => {
    const ras = sliceGeometry([
      [0.7, 0, 0, 0],
      [0, 0.7, 0, 0],
      [0, 0, 5, 0],
      [0, 0, 0, 1],
    ]);
    expect(ras.edges).toEqual({ right: 'R', left: 'L', top: 'A', bottom: 'P' });
    expect(ras.spacing).toEqual([0.7, 0.7, 5]);
    // LPS-like storage (x and y negated): the patient's left on the image's right, posterior up.
    expect(sliceGeometry([[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]).edges).toEqual({ right: 'L', left: 'R', top: 'P', bottom: 'A' });
  });
});
