import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { randElastic } from '../../../../src-main/engine/transforms/elastic';
import { randFlip, randRotate, randRotate90 } from '../../../../src-main/engine/transforms/geometry';
import { digitalWeathering } from '../../../../src-main/engine/transforms/jpeg';
import { cutMix, mixUp } from '../../../../src-main/engine/transforms/mixing';
import { classMapOf, maskPlanes, sampleFromClassMap, type Sample, type TransformContext } from '../../../../src-main/engine/transforms/sample';

const SIZE = 40;
/** Image grey level of each class, so geometry can be checked against the image itself. */
const LEVEL = [40, 140, 240];

/** A class map of two overlapping discs (consolidation inside ground-glass) and an image whose grey level is the class's. */
function classSample(seed: number): Sample {
  const labels = new Uint8Array(SIZE * SIZE);
  const cx = 14 + (seed % 9);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const r2 = (x - cx) ** 2 + (y - 18) ** 2;
      labels[y * SIZE + x] = r2 < 36 ? 2 : r2 < 140 ? 1 : 0;
    }
  }
  const image = Uint8Array.from(labels, (c) => LEVEL[c]!);
  return sampleFromClassMap(SIZE, SIZE, image, labels);
}

const partner: TransformContext = { partner: (random) => classSample(100 + random.int(5)) };
const always = { prob: 1 };

/** Share of pixels whose image level is a pure class level that carry that class in the class map. */
function agreement(sample: Sample): number {
  const map = classMapOf(sample);
  let pure = 0;
  let agree = 0;
  for (let i = 0; i < map.length; i++) {
    const c = LEVEL.findIndex((level) => Math.abs(sample.image[i]! - level) < 0.5);
    if (c < 0) continue;
    pure++;
    if (map[i] === c) agree++;
  }
  return pure === 0 ? 0 : agree / pure;
}

describe('class maps through augmentation', () => {
  it('a class map becomes one plane per foreground class and reads back unchanged', () => {
    const s = classSample(1);
    expect(maskPlanes(s)).toBe(2);
    const labels = Uint8Array.from(s.image, (v) => LEVEL.indexOf(v));
    expect(Array.from(classMapOf(s))).toEqual(Array.from(labels));
    expect(new Set(labels)).toEqual(new Set([0, 1, 2]));
  });

  it('every geometric and mixing transform keeps values in {0,1,2}, one class per pixel, and the classes where the image has them', async () => {
    const s = classSample(2);
    const transforms = [
      randFlip(always),
      randRotate90(always),
      randRotate({ prob: 1, maxDegrees: 30 }),
      randElastic(always),
      cutMix(always),
      digitalWeathering({ prob: 1, generations: 2 }),
    ];
    for (const t of transforms) {
      const out = await t.apply(s, createRandom(3), partner);
      expect(maskPlanes(out), t.name).toBe(2);
      expect(out.mask.every((v) => v === 0 || v === 1), t.name).toBe(true);
      const plane = SIZE * SIZE;
      for (let i = 0; i < plane; i++) expect(out.mask[i]! + out.mask[plane + i]!, t.name).toBeLessThanOrEqual(1);
      expect(new Set(classMapOf(out)).size, t.name).toBeGreaterThanOrEqual(2);
      // JPEG changes grey levels, so only the geometric and pasting transforms can be checked pixel by pixel.
      if (t.name !== 'DigitalWeathering') expect(agreement(out), t.name).toBeGreaterThan(0.99);
    }
    const moved = await randRotate({ prob: 1, maxDegrees: 30 }).apply(s, createRandom(4), {});
    expect(Array.from(classMapOf(moved))).not.toEqual(Array.from(classMapOf(s)));
  });

  it('hard mixup keeps the denser class where both have lesion; soft mixup gives soft one-hot targets', async () => {
    const s = classSample(3);
    const hard = await mixUp({ prob: 1, maskPolicy: 'hard' }).apply(s, createRandom(5), partner);
    expect(hard.mask.every((v) => v === 0 || v === 1)).toBe(true);
    const mapA = classMapOf(s);
    const mapHard = classMapOf(hard);
    for (let i = 0; i < mapA.length; i++) expect(mapHard[i]).toBeGreaterThanOrEqual(mapA[i]!);
    const soft = await mixUp({ prob: 1, maskPolicy: 'soft' }).apply(s, createRandom(5), partner);
    const plane = SIZE * SIZE;
    let fractional = 0;
    for (let i = 0; i < plane; i++) {
      const g = soft.mask[i]!;
      const c = soft.mask[plane + i]!;
      expect(g).toBeGreaterThanOrEqual(0);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(g + c).toBeLessThanOrEqual(1 + 1e-6);
      if (g > 0 && g < 1) fractional++;
    }
    expect(fractional).toBeGreaterThan(0);
  });
});
