import { describe, expect, it } from 'vitest';
import { windowHu } from '../../../../src-main/engine/datasets/hu-window';
import { greyToHu } from '../../../../src-main/engine/datasets/hu-window';
import { lesionContrast, lungRegion, PNG_HU_WINDOW } from '../../../../src-main/engine/gan/lesion-contrast';

/** A 64 x 64 chest: air outside, soft-tissue body, one aerated lung (-850 HU), and a square patch of `patchHu` in the lung. */
function chest(patchHu: number | null): { image: Uint8Array; mask: Uint8Array } {
  const size = 64;
  const image = new Uint8Array(size * size);
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const body = x >= 6 && x < 58 && y >= 6 && y < 58;
      const lung = x >= 14 && x < 50 && y >= 14 && y < 50;
      const patch = x >= 26 && x < 36 && y >= 26 && y < 36;
      const hu = !body ? -1000 : !lung ? 40 : patch && patchHu !== null ? patchHu : -850;
      image[i] = windowHu(hu, PNG_HU_WINDOW);
      mask[i] = patch ? 1 : 0;
    }
  }
  return { image, mask };
}

describe('lesion contrast', () => {
  it('reads grey levels back as HU through the PNG window', () => {
    expect(greyToHu(0, PNG_HU_WINDOW)).toBe(-1000);
    expect(greyToHu(255, PNG_HU_WINDOW)).toBe(400);
    expect(greyToHu(windowHu(-600, PNG_HU_WINDOW), PNG_HU_WINDOW)).toBeCloseTo(-600, -1);
  });

  it('finds the lung inside the body, not the air around the patient', () => {
    const { image, mask } = chest(null);
    const lung = lungRegion(image, mask, 64, 64);
    expect(lung[0]).toBe(0);
    expect(lung[10 * 64 + 10]).toBe(0);
    expect(lung[20 * 64 + 20]).toBe(1);
    expect(lung.reduce((s, v) => s + v, 0)).toBe(36 * 36);
  });

  it('is positive for a ground-glass or consolidation lesion, about zero for a mask over normal lung, negative for a darker patch', () => {
    const glass = lesionContrast(...Object.values(chest(-500)) as [Uint8Array, Uint8Array], 64, 64)!;
    const consolidation = lesionContrast(...Object.values(chest(0)) as [Uint8Array, Uint8Array], 64, 64)!;
    const nothing = lesionContrast(...Object.values(chest(null)) as [Uint8Array, Uint8Array], 64, 64)!;
    const darker = lesionContrast(...Object.values(chest(-980)) as [Uint8Array, Uint8Array], 64, 64)!;
    expect(glass).toBeGreaterThan(300);
    expect(glass).toBeLessThan(400);
    expect(consolidation).toBeGreaterThan(glass);
    expect(Math.abs(nothing)).toBeLessThan(10);
    expect(darker).toBeLessThan(-100);
  });

  it('is null for an empty mask', () => {
    const { image } = chest(null);
    expect(lesionContrast(image, new Uint8Array(64 * 64), 64, 64)).toBeNull();
  });
});
