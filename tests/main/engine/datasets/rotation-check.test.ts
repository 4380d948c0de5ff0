import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { datasetAnatomy, orientationProblem, rotationProblem } from '../../../../src-main/engine/datasets/rotation-check';
import { sliceGeometry } from '../../../../src-main/engine/datasets/slice-geometry';
import { writeSyntheticSample } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import { parseOrientation } from '../../../../src-shared/orientation';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../../../fixtures/real-data';
import { tempDir } from '../../../fixtures/temp-dir';

/** A copy of a sample with every frame and mask passed through `turn` (a sharp pipeline). */
async function storedAs(source: string, turn: (image: Sharp) => Sharp): Promise<string> {
  const out = await tempDir();
  for (const folder of ['frames', 'masks']) {
    await mkdir(join(out, folder), { recursive: true });
    for (const name of await readdir(join(source, folder))) await turn(sharp(join(source, folder, name))).toFile(join(out, folder, name));
  }
  return out;
}

const ids = async (root: string) => new Set((await openDataset(root)).slices.map((s) => s.id));

describe('looks-rotated check', () => {
  it('is quiet on upright slices and warns, with the orientation the anatomy says, when the same slices are turned or mirrored', async () => {
    const upright = await tempDir();
    await writeSyntheticSample(upright, { count: 12, size: 96, seed: 5 });
    expect(await rotationProblem(await openDataset(upright), await ids(upright))).toBeUndefined();
    // Stored turned clockwise: turning back is rot270 (the old check said rot90 whatever the turn).
    const turned = await storedAs(upright, (image) => image.rotate(90));
    const problem = await rotationProblem(await openDataset(turned), await ids(turned));
    expect(problem).toMatchObject({ severity: 'warning', code: 'looks-rotated' });
    expect(problem!.message).toMatch(/says rot270$/);
    expect(problem!.fix).toMatch(/covseg dataset orient .* --orientation rot270`/);
    // Saved as the anatomy says: quiet. Saved a half turn off: upside down, sides swapped.
    expect(await rotationProblem(await openDataset(turned), await ids(turned), parseOrientation('rot270')!)).toBeUndefined();
    expect(await rotationProblem(await openDataset(turned), await ids(turned), parseOrientation('rot90')!)).toMatchObject({
      code: 'looks-upside-down',
      message: expect.stringMatching(/right and left lungs are swapped/),
      fix: expect.stringMatching(/--orientation rot270`/),
    });
    // Lungs side by side but the heart on the screen's left: mirrored, whatever the rotation saved.
    expect(await rotationProblem(await openDataset(turned), await ids(turned), parseOrientation('rot270+flipH')!)).toMatchObject({
      code: 'looks-mirrored',
      message: expect.stringMatching(/heart on the screen's left; the patient's right and left lungs are swapped/),
    });
    const mirrored = await storedAs(upright, (image) => image.flop());
    expect(await rotationProblem(await openDataset(mirrored), await ids(mirrored))).toMatchObject({ code: 'looks-mirrored', fix: expect.stringMatching(/--orientation flipH`/) });
    // Upside down and mirrored (spine at the top, heart on the right): the sides are right, the picture is not.
    const flipped = await storedAs(upright, (image) => image.flip());
    expect(await rotationProblem(await openDataset(flipped), await ids(flipped))).toMatchObject({
      code: 'looks-mirrored',
      message: expect.not.stringMatching(/swapped/),
      fix: expect.stringMatching(/--orientation rot180\+flipH`/),
    });
  });

  it.skipIf(!HAVE_REAL_DATA)('warns on the real MedSeg slices (published turned by 90 degrees) with the orientation their anatomy says', async () => {
    const anatomy = await datasetAnatomy(await openDataset(REAL_DATA_DIR), await ids(REAL_DATA_DIR));
    const problem = orientationProblem(REAL_DATA_DIR, anatomy);
    expect(problem).toMatchObject({ code: 'looks-rotated', fix: expect.stringMatching(/--orientation rot90\+flipH`/) });
    console.log(`[rotation check] MedSeg: ${problem!.message}`);
    // Turned by the plain quarter turn the old check suggested, they are mirrored; as the anatomy says, fine.
    expect(orientationProblem(REAL_DATA_DIR, anatomy, parseOrientation('rot90')!)).toMatchObject({ code: 'looks-mirrored', message: expect.stringMatching(/heart on the screen's left/) });
    expect(orientationProblem(REAL_DATA_DIR, anatomy, parseOrientation('rot270+flipV')!)).toBeUndefined();
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
