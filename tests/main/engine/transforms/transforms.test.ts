import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { psnr, ssim } from '../../../../src-main/engine/metrics/image-quality';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { randElastic } from '../../../../src-main/engine/transforms/elastic';
import { randFlip, randRotate, rotate90 } from '../../../../src-main/engine/transforms/geometry';
import { digitalWeathering, randJpeg, weatherImage } from '../../../../src-main/engine/transforms/jpeg';
import { cutMix, mixUp } from '../../../../src-main/engine/transforms/mixing';
import { composeRecipe, loadRecipe, PRESET_RECIPES } from '../../../../src-main/engine/transforms/recipes';
import type { Sample, TransformContext } from '../../../../src-main/engine/transforms/sample';
import { tempDir } from '../../../fixtures/temp-dir';

/** A 32x32 CT-like test pair: a textured image and a blob mask. */
function testSample(seed = 1, size = 32): Sample {
  const random = createRandom(seed);
  const image = new Float32Array(size * size);
  const mask = new Float32Array(size * size);
  const cx = 8 + (seed % 7);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      image[y * size + x] = Math.round(120 + 80 * Math.sin(x / 3) * Math.cos(y / 5) + random.uniform(-20, 20));
      mask[y * size + x] = (x - cx) ** 2 + (y - 12) ** 2 < 30 ? 1 : 0;
    }
  }
  return { width: size, height: size, image, mask };
}

const partner: TransformContext = { partner: (random) => testSample(100 + random.int(5)) };
const always = { prob: 1 };
const isBinary = (mask: Float32Array) => mask.every((v) => v === 0 || v === 1);

describe('transforms', () => {
  it('flipping twice and rotating four quarter turns give the input back', async () => {
    const s = testSample();
    const flip = randFlip({ ...always });
    const twice = await flip.apply(await flip.apply(s, createRandom(1), {}), createRandom(1), {});
    expect(Array.from(twice.image)).toEqual(Array.from(s.image));
    expect(Array.from(twice.mask)).toEqual(Array.from(s.mask));
    let r = s;
    for (let k = 0; k < 4; k++) r = rotate90(r, 1);
    expect(Array.from(r.image)).toEqual(Array.from(s.image));
    expect(Array.from(rotate90(s, 1).image)).not.toEqual(Array.from(s.image));
  });

  it('elastic with alpha 0 is the identity, and the default visibly deforms', async () => {
    const s = testSample();
    const same = await randElastic({ prob: 1, alpha: 0 }).apply(s, createRandom(2), {});
    expect(Array.from(same.image)).toEqual(Array.from(s.image));
    const moved = await randElastic({ prob: 1 }).apply(s, createRandom(2), {});
    const changed = moved.mask.reduce((n, v, i) => n + (v !== s.mask[i] ? 1 : 0), 0);
    expect(changed).toBeGreaterThan(5);
  });

  it('keeps masks binary for every transform but soft mixup', async () => {
    const s = testSample();
    const hard = [randFlip(always), randRotate({ prob: 1, maxDegrees: 30 }), randElastic(always), mixUp({ prob: 1, maskPolicy: 'hard' }), cutMix(always), randJpeg(always), digitalWeathering({ prob: 1, generations: 2 })];
    for (const t of hard) expect(isBinary((await t.apply(s, createRandom(3), partner)).mask), t.name).toBe(true);
    const soft = await mixUp({ prob: 1, maskPolicy: 'soft' }).apply(s, createRandom(3), partner);
    expect(isBinary(soft.mask)).toBe(false);
    expect(soft.mask.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('gives the same output for the same seed and a different one for another', async () => {
    const recipe = composeRecipe(PRESET_RECIPES['fliprot+mixup+jpeg']!);
    const a = await recipe(testSample(), createRandom(9), partner);
    const b = await recipe(testSample(), createRandom(9), partner);
    const c = await recipe(testSample(), createRandom(10), partner);
    expect(Array.from(b.image)).toEqual(Array.from(a.image));
    expect(Array.from(c.image)).not.toEqual(Array.from(a.image));
  });

  it('never passes a mask through JPEG', async () => {
    const s = testSample();
    for (const t of [randJpeg({ prob: 1, minQuality: 5, maxQuality: 5 }), digitalWeathering({ prob: 1, quality: 5, generations: 3 })]) {
      const out = await t.apply(s, createRandom(4), {});
      expect(out.mask).toBe(s.mask);
      expect(Array.from(out.image)).not.toEqual(Array.from(s.image));
    }
  });

  it('weathering at one quality stops changing after a few generations; with jitter PSNR keeps falling', async () => {
    const s = testSample(5, 64);
    const image = Uint8Array.from(s.image);
    const plain = await weatherImage(image, 64, 64, { quality: 30, generations: 18 });
    expect(plain).toHaveLength(18);
    expect(Array.from(plain[17]!.image)).toEqual(Array.from(plain[11]!.image));
    const jittered = await weatherImage(image, 64, 64, { quality: 30, generations: 18, jitter: 'shift' });
    expect(jittered[17]!.psnr).toBeLessThan(jittered[3]!.psnr - 0.5);
    expect(jittered[17]!.ssim).toBeLessThan(jittered[3]!.ssim);
    const schedule = await weatherImage(image, 64, 64, { schedule: [30, 20, 10, 5] });
    expect(schedule.map((g) => g.quality)).toEqual([30, 20, 10, 5]);
    expect(schedule[3]!.psnr).toBeLessThan(schedule[0]!.psnr);
  });

  it('computes PSNR and SSIM as by hand', () => {
    const a = new Uint8Array(64).fill(100);
    const b = a.map((v, i) => (i % 2 ? v + 10 : v - 10));
    // MSE = 100, so PSNR = 10 log10(255^2 / 100)
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 10);
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a, 8, 8)).toBeCloseTo(1, 10);
    // Two flat images, 100 and 110: no variance, so SSIM is the luminance term alone,
    // (2*100*110 + C1) / (100^2 + 110^2 + C1) with C1 = (0.01*255)^2.
    const c1 = (0.01 * 255) ** 2;
    expect(ssim(a, new Uint8Array(64).fill(110), 8, 8)).toBeCloseTo((2 * 100 * 110 + c1) / (100 * 100 + 110 * 110 + c1), 6);
    expect(ssim(a, b, 8, 8)).toBeLessThan(0.99);
  });

  it('loads presets, validates recipe files and explains the GAN requirement', async () => {
    expect(Object.keys(PRESET_RECIPES)).toEqual(['origin', 'origin+gan', 'origin+gan+elastic', 'origin+gan+jpeg', 'fliprot+elastic', 'fliprot+mixup', 'mixup+jpeg', 'fliprot+mixup+jpeg']);
    expect((await loadRecipe('fliprot+elastic')).steps).toHaveLength(4);
    expect((await loadRecipe('fliprot+elastic', { mode: 'offline' })).copies).toBe(2);
    await expect(loadRecipe('origin+gan')).rejects.toMatchObject({ code: 'unsupported', fix: expect.stringMatching(/--gan-dir/) });
    await expect(loadRecipe('nope')).rejects.toThrow(/neither a preset recipe nor a readable file/);
  });

  it('refuses a recipe file whose parameter is out of range, naming the file, the step, the parameter and its range', async () => {
    const dir = await tempDir();
    const file = join(dir, 'wild.json');
    await writeFile(file, JSON.stringify({ name: 'wild', mode: 'online', steps: [{ type: 'RandFlip', prob: 0.5 }, { type: 'RandElastic', prob: 0.5, sigma: 1e9 }] }));
    await expect(loadRecipe(file)).rejects.toMatchObject({ code: 'bad-parameter', file, message: 'recipe step 2: RandElastic sigma must be a number in [0.5, 64] (pixels), got 1000000000' });
    await writeFile(file, JSON.stringify({ name: 'wild', mode: 'online', steps: [{ type: 'DigitalWeathering', generations: 100000 }, { type: 'RandJpeg', minQuality: 0 }] }));
    await expect(loadRecipe(file)).rejects.toThrow(/recipe step 1: DigitalWeathering generations must be an integer in \[1, 60\], got 100000/);
    await writeFile(file, JSON.stringify({ name: 'wild', mode: 'online', steps: [{ type: 'MixUp', alpha: 1e-9 }] }));
    await expect(loadRecipe(file)).rejects.toThrow(/MixUp alpha must be a number in \[0.05, 10\], got 1e-9/);
    // Every preset stays within the bounds.
    for (const name of Object.keys(PRESET_RECIPES)) if (!PRESET_RECIPES[name]!.gan) expect((await loadRecipe(name)).name).toBe(name);
  });
});
