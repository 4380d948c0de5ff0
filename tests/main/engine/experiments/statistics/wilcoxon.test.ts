import { describe, expect, it } from 'vitest';
import { wilcoxonSignedRank } from '../../../../../src-main/engine/experiments/statistics/wilcoxon';

// Hollander & Wolfe, Nonparametric Statistical Methods (2nd ed. 1999), Table 3.1: Hamilton depression
// scale before (x) and after (y) tranquilizer, 9 patients. Two-sided exact p = 2 x 0.0195 = 0.039
// (scipy.stats.wilcoxon(x - y, method='exact') gives statistic 5, p 0.0390625).
const X = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
const Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];

// Differences with ties and zeros: scipy.stats.wilcoxon(d, method='approx', zero_method='wilcox')
// gives statistic 46.5 and p 0.0010163104471976976 (correction=True), 0.0009711356824315581 (False).
const TIED = [0.1, 0.2, -0.1, 0.3, 0.2, 0, 0.4, -0.2, 0.5, 0.1, 0.2, 0.6, -0.3, 0.2, 0.7, 0.1, 0.3, 0, 0.2, 0.4, -0.1, 0.5, 0.3, 0.2, 0.1, 0.6, 0.2, -0.2];

describe('wilcoxonSignedRank', () => {
  it('matches the exact textbook p-value for a small untied sample', () => {
    const result = wilcoxonSignedRank(X.map((x, i) => x - Y[i]!));
    expect(result.method).toBe('exact');
    expect(result.n).toBe(9);
    expect(result.wPlus).toBe(40);
    expect(result.wMinus).toBe(5);
    expect(result.p).toBeCloseTo(0.0390625, 12);
    // Kerby's simple difference: (40 - 5) / 45.
    expect(result.rankBiserial).toBeCloseTo(35 / 45, 12);
  });

  it('is symmetric: swapping the pair order flips the effect, not the p-value', () => {
    const result = wilcoxonSignedRank(X.map((x, i) => Y[i]! - x));
    expect(result.p).toBeCloseTo(0.0390625, 12);
    expect(result.rankBiserial).toBeCloseTo(-35 / 45, 12);
  });

  it('uses the tie- and continuity-corrected normal approximation with ties, dropping zeros', () => {
    const result = wilcoxonSignedRank(TIED);
    expect(result.method).toBe('normal');
    expect(result.zeros).toBe(2);
    expect(result.n).toBe(26);
    expect(Math.min(result.wPlus, result.wMinus)).toBe(46.5);
    expect(result.p).toBeCloseTo(0.0010163104471976976, 7);
  });

  it('gives p = 1 and no effect when every difference is zero', () => {
    expect(wilcoxonSignedRank([0, 0, 0])).toMatchObject({ n: 0, zeros: 3, p: 1, rankBiserial: 0 });
  });

  it('cannot reach significance with 5 pairs: the smallest exact two-sided p is 2/32', () => {
    expect(wilcoxonSignedRank([0.1, 0.2, 0.3, 0.4, 0.5]).p).toBeCloseTo(0.0625, 12);
  });
});
