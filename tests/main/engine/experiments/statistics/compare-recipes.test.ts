import { describe, expect, it } from 'vitest';
import type { CellResult } from '../../../../../src-main/engine/experiments/statistics/collect-results';
import { compareWithOrigin, pairedDifferences, summariseConfigurations } from '../../../../../src-main/engine/experiments/statistics/compare-recipes';

const SLICES = 30;
const base = (i: number) => 0.4 + (i * 0.37) % 0.5;

function cell(recipe: string, seed: number, dice: number, sliceDice: (i: number) => number | null, state: CellResult['state'] = 'done'): CellResult {
  return {
    cell: { id: `${recipe}__unet__bce__s${seed}`, recipe, model: 'unet', loss: 'bce', seed, classes: 'lesion', options: {} },
    state,
    epochs: 1,
    seconds: 1,
    testLoss: 0.3,
    dice,
    iou: dice - 0.1,
    miou: dice + 0.1,
    hd95: 5,
    perClass: [],
    slices: state === 'done' ? Array.from({ length: SLICES }, (_, i) => ({ id: `slice-${i}`, dice: sliceDice(i) })) : [],
    curve: [],
  };
}

const results: CellResult[] = [
  cell('origin', 1, 0.6, base),
  cell('origin', 2, 0.7, (i) => (i === 0 ? null : base(i))),
  // Every pair better by a distinct positive amount.
  cell('better', 1, 0.65, (i) => base(i) + 0.01 + i * 0.001),
  cell('better', 2, 0.75, (i) => base(i) + 0.05 + i * 0.001),
  // Differences alternate in sign with growing size: W+ and W- nearly equal.
  cell('same', 1, 0.6, (i) => base(i) + (i % 2 ? 1 : -1) * (i + 1) * 0.001),
  cell('same', 2, 0.7, (i) => base(i) + (i % 2 ? 1 : -1) * (i + 31) * 0.001),
  cell('failed', 1, 0, () => null, 'failed'),
  cell('failed', 2, 0, () => null, 'failed'),
];

describe('summariseConfigurations', () => {
  it('gives mean and sample sd over seeds per recipe and counts the finished cells', () => {
    const origin = summariseConfigurations(results).find((c) => c.recipe === 'origin')!;
    expect(origin.group).toBe('unet / bce');
    expect(origin.dice.mean).toBeCloseTo(0.65, 12);
    expect(origin.dice.sd).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    expect(origin.dice.ci!.low).toBeGreaterThanOrEqual(0.6);
    expect(origin.dice.ci!.high).toBeLessThanOrEqual(0.7);
    const failed = summariseConfigurations(results).find((c) => c.recipe === 'failed')!;
    expect(failed).toMatchObject({ done: 0, total: 2, dice: { mean: null, sd: null, ci: null } });
  });
});

describe('compareWithOrigin', () => {
  it('pairs slices by id and seed, leaving out slices where either run has no Dice', () => {
    const { differences, seeds } = pairedDifferences(results.filter((r) => r.cell.recipe === 'better'), results.filter((r) => r.cell.recipe === 'origin'));
    expect(seeds).toBe(2);
    expect(differences).toHaveLength(2 * SLICES - 1);
    expect(differences[0]).toBeCloseTo(0.01, 12);
  });

  it('calls a consistent gain better, a symmetric one no evidence, and a failed recipe not enough data', () => {
    const rows = compareWithOrigin(results);
    const better = rows.find((r) => r.recipe === 'better')!;
    expect(better.test!.rankBiserial).toBe(1);
    expect(better.pHolm!).toBeLessThan(1e-6);
    expect(better.verdict).toBe('better');
    // Slice i gains 0.01 + i/1000 (seed 1) and 0.05 + i/1000 (seed 2); slice 0 has no seed-2 pair.
    expect(better.disagreements.map((d) => d.slice)).toEqual(['slice-29', 'slice-28', 'slice-27']);
    expect(better.disagreements[0]!.difference).toBeCloseTo(0.059, 12);
    const same = rows.find((r) => r.recipe === 'same')!;
    // |d| x 1000 = 1..30 (seed 1) and 32..60 (seed 2; slice 0, 31, is unpaired), so rank = |d| or |d| - 1.
    // Positive: 2..30 even (240) + ranks 31..59 odd (675) = 915; negative: 225 + 630 = 855.
    expect(same.test!.wPlus).toBeCloseTo(915, 9);
    expect(same.test!.wMinus).toBeCloseTo(855, 9);
    expect(same.verdict).toBe('no evidence of a difference');
    expect(same.pHolm!).toBeGreaterThanOrEqual(same.test!.p);
    expect(rows.find((r) => r.recipe === 'failed')).toMatchObject({ pairs: 0, verdict: 'not enough data', pHolm: null });
    expect(rows.find((r) => r.recipe === 'origin')).toBeUndefined();
  });

  it('calls a consistent loss worse', () => {
    const worse = results.filter((r) => r.cell.recipe === 'origin').map((r) => ({ ...r, cell: { ...r.cell, recipe: 'worse' }, slices: r.slices.map((s) => ({ ...s, dice: s.dice === null ? null : s.dice - 0.1 })) }));
    expect(compareWithOrigin([...results, ...worse]).find((r) => r.recipe === 'worse')!.verdict).toBe('worse');
  });
});
