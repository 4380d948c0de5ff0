import { describe, expect, it } from 'vitest';
import { composeLabPreview, TARGET_OPACITY } from '../../../../src-renderer/src/components/lab/compose-lab-preview';
import { COLOURS, composeSlice } from '../../../../src-renderer/src/components/slices/compose-slice';

const rgb = (out: Uint8ClampedArray, i: number) => [out[4 * i], out[4 * i + 1], out[4 * i + 2]];

describe('the Lab preview in the slice browser palette', () => {
  // Along the row: background, ground-glass, consolidation, background.
  const labels = Uint8Array.from([0, 1, 2, 0]);
  const image = Uint8Array.from([40, 90, 140, 200]);
  const plane = (c: number) => Uint8Array.from(labels, (v) => (v === c ? 255 : 0));
  const mask = Uint8Array.from(labels, (v) => (v > 0 ? 255 : 0));

  it('draws hard class targets exactly as the slice browser draws the truth layer', () => {
    const lab = composeLabPreview({ width: 4, height: 1, image, mask, classes: [plane(1), plane(2)] });
    const browser = composeSlice({
      width: 4,
      height: 1,
      image,
      truth: Uint8Array.from(labels, (v) => (v > 0 ? 1 : 0)),
      labels,
      prediction: null,
      layers: { truth: { visible: true, opacity: TARGET_OPACITY }, prediction: { visible: false, opacity: 0 }, diff: { visible: false, opacity: 0 } },
      outline: false,
    });
    expect(Array.from(lab)).toEqual(Array.from(browser));
    expect(rgb(lab, 0)).toEqual([40, 40, 40]);
  });

  it('blends the class colours of a soft (MixUp) target by their shares, fainter below a share of 1', () => {
    // Half ground-glass, half consolidation: the mean colour at full strength.
    const half = composeLabPreview({ width: 1, height: 1, image: Uint8Array.from([0]), mask: Uint8Array.from([255]), classes: [Uint8Array.from([128]), Uint8Array.from([127])] });
    const mean = [0, 1, 2].map((k) => (128 * COLOURS.groundGlass[k]! + 127 * COLOURS.consolidation[k]!) / 255);
    rgb(half, 0).forEach((v, k) => expect(v).toBeCloseTo(mean[k]! * TARGET_OPACITY, -0.5));
    // A quarter ground-glass alone: its own colour at a quarter of the strength.
    const faint = composeLabPreview({ width: 1, height: 1, image: Uint8Array.from([0]), mask: Uint8Array.from([64]), classes: [Uint8Array.from([64]), Uint8Array.from([0])] });
    rgb(faint, 0).forEach((v, k) => expect(v).toBeCloseTo(COLOURS.groundGlass[k]! * TARGET_OPACITY * (64 / 255), -0.5));
  });

  it('draws a lesion mask without classes in the lesion colour', () => {
    const out = composeLabPreview({ width: 4, height: 1, image, mask, classes: null });
    rgb(out, 1).forEach((v, k) => expect(v).toBeCloseTo(90 * (1 - TARGET_OPACITY) + COLOURS.lesion[k]! * TARGET_OPACITY, -0.5));
    expect(rgb(out, 3)).toEqual([200, 200, 200]);
  });
});
