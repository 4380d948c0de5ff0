import { describe, expect, it } from 'vitest';
import { decodeRuns, encodeRuns } from '../../../../src-renderer/src/components/annotate/edit-journal';
import { thresholdPrediction } from '../../../../src-renderer/src/components/annotate/prediction-labels';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';

describe('the edit journal’s run-length coding', () => {
  it('round-trips any label map, and a mostly-background 512x512 map takes a few characters', () => {
    const random = createRandom(5);
    for (const length of [0, 1, 7, 1000]) {
      const labels = Uint8Array.from({ length }, () => Math.floor(random.next() * 3));
      expect(decodeRuns(encodeRuns(labels), length)).toEqual(labels);
    }
    const slice = new Uint8Array(512 * 512);
    for (let y = 100; y < 140; y++) slice.fill(1, y * 512 + 200, y * 512 + 260);
    slice.fill(2, 300 * 512, 300 * 512 + 40);
    const text = encodeRuns(slice);
    expect(text.length).toBeLessThan(600);
    // Compared as bytes: a deep equality of 262144 elements alone takes seconds.
    expect(Buffer.from(decodeRuns(text, slice.length)!).equals(Buffer.from(slice))).toBe(true);
  });

  it('refuses text that does not describe exactly the slice: wrong length, values other than 0/1/2, damage', () => {
    const text = encodeRuns(Uint8Array.from([0, 0, 1, 2, 2]));
    expect(decodeRuns(text, 6)).toBeNull();
    expect(decodeRuns(text, 4)).toBeNull();
    expect(decodeRuns('3a', 10)).toBeNull();
    expect(decodeRuns('0x,1', 2)).toBeNull();
  });
});

describe('start from prediction', () => {
  const prediction = (classes: 'lesion' | 'ggo-consolidation') => ({
    probability: Uint8Array.from([0, 1, 76, 77, 128, 255]),
    lesionClass: Uint8Array.from([1, 2, 1, 2, 2, 1]),
    classes,
  });

  it('a lesion-only run paints the selected label where the quantised probability reaches the threshold, never at 0', () => {
    // round(0.3 * 255) = 77
    expect([...thresholdPrediction(prediction('lesion'), 0.3, 2)]).toEqual([0, 0, 0, 2, 2, 2]);
    expect([...thresholdPrediction(prediction('lesion'), 0.5, 1)]).toEqual([0, 0, 0, 0, 1, 1]);
    expect([...thresholdPrediction(prediction('lesion'), 0, 1)]).toEqual([0, 1, 1, 1, 1, 1]);
  });

  it('a three-class run gives each lesion pixel its own class, whatever label is selected', () => {
    expect([...thresholdPrediction(prediction('ggo-consolidation'), 0.3, 1)]).toEqual([0, 0, 0, 2, 2, 1]);
  });
});
