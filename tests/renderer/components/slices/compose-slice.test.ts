import { describe, expect, it } from 'vitest';
import { COLOURS, composeSlice, differenceColour } from '../../../../src-renderer/src/components/slices/compose-slice';

const layers = (diff: boolean) => ({ truth: { visible: !diff, opacity: 1 }, prediction: { visible: !diff, opacity: 1 }, diff: { visible: diff, opacity: 1 } });
const rgb = (out: Uint8ClampedArray, i: number) => [out[4 * i], out[4 * i + 1], out[4 * i + 2]];

describe('composing a slice with a three-class prediction', () => {
  // Truth along the row: background, ground-glass, ground-glass, consolidation, consolidation, background, ground-glass, consolidation.
  const labels = Uint8Array.from([0, 1, 1, 2, 2, 0, 1, 2]);
  const predicted = Uint8Array.from([0, 1, 2, 2, 1, 2, 0, 0]);
  const base = { width: 8, height: 1, image: new Uint8Array(8).fill(100), truth: Uint8Array.from(labels, (v) => (v > 0 ? 1 : 0)), labels, prediction: predicted, outline: false };

  it('shows every kind of per-class difference in its own colour', () => {
    const out = composeSlice({ ...base, predictedClasses: true, layers: layers(true) });
    expect(rgb(out, 0)).toEqual([100, 100, 100]);
    expect(rgb(out, 1)).toEqual([...COLOURS.truePositive]);
    expect(rgb(out, 2)).toEqual([...COLOURS.groundGlassAsConsolidation]);
    expect(rgb(out, 3)).toEqual([...COLOURS.truePositive]);
    expect(rgb(out, 4)).toEqual([...COLOURS.consolidationAsGroundGlass]);
    expect(rgb(out, 5)).toEqual([...COLOURS.falsePositive]);
    expect(rgb(out, 6)).toEqual([...COLOURS.falseNegative]);
    expect(rgb(out, 7)).toEqual([...COLOURS.missedConsolidation]);
  });

  it('paints predicted classes in the ground truth palette, and a binary prediction in blue', () => {
    const onlyPrediction = { truth: { visible: false, opacity: 1 }, prediction: { visible: true, opacity: 1 }, diff: { visible: false, opacity: 1 } };
    const classes = composeSlice({ ...base, predictedClasses: true, layers: onlyPrediction });
    expect(rgb(classes, 1)).toEqual([...COLOURS.groundGlass]);
    expect(rgb(classes, 2)).toEqual([...COLOURS.consolidation]);
    const binary = composeSlice({ ...base, prediction: Uint8Array.from(predicted, (v) => (v > 0 ? 1 : 0)), layers: onlyPrediction });
    expect(rgb(binary, 2)).toEqual([...COLOURS.prediction]);
  });

  it('a binary run keeps the TP/FP/FN difference even where the truth has classes', () => {
    expect(differenceColour(2, 1, false)).toBe(COLOURS.truePositive);
    expect(differenceColour(2, 0, false)).toBe(COLOURS.falseNegative);
    expect(differenceColour(0, 0, true)).toBeNull();
  });
});
