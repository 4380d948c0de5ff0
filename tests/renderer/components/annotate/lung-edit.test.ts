import { describe, expect, it } from 'vitest';
import { addLesionToLung, lesionOutsideLung } from '../../../../src-renderer/src/components/annotate/lung-edit';

/** A 10 x 4 map from rows of characters ('.' is 0). */
const grid = (...rows: string[]) => Uint8Array.from(rows.join(''), (c) => (c === '.' ? 0 : Number(c)));

describe('lung edit', () => {
  it('counts lesion outside the lung and adds it to the nearer lung', () => {
    const lung = grid('11......22', '11......22', '11......22', '11......22');
    const labels = grid('..1.....2.', '..1...1...', '.......2..', '..........');
    // Lesion at x 2 (twice), x 6, x 7 lies outside; the one at x 8 lies in lung 2.
    expect(lesionOutsideLung(labels, lung)).toBe(4);
    const added = addLesionToLung(labels, lung, 10, 1);
    expect(added).toEqual(grid('111.....22', '111...2.22', '11.....222', '11......22'));
    expect(lesionOutsideLung(labels, added)).toBe(0);
    // The input is left as it was (the store applies the difference as one undo step).
    expect(lung).toEqual(grid('11......22', '11......22', '11......22', '11......22'));
  });

  it('gives lesion the chosen side when there is no second lung to compare with', () => {
    const lung = grid('11........', '11........', '..........', '..........');
    const labels = grid('.........1', '..........', '..........', '..........');
    expect(addLesionToLung(labels, lung, 10, 2)[9]).toBe(2);
  });
});
