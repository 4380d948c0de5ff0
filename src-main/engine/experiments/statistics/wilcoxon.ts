import { normalSf } from './normal-distribution';

export interface WilcoxonResult {
  /** Non-zero differences the test used (zeros are dropped, Wilcoxon's own convention). */
  n: number;
  zeros: number;
  /** Rank sums of the positive and the negative differences. */
  wPlus: number;
  wMinus: number;
  /** Two-sided p-value; 1 when no difference is non-zero. */
  p: number;
  method: 'exact' | 'normal';
  /** Matched-pairs rank-biserial correlation (Kerby 2014): (W+ - W-) / (W+ + W-), from -1 to 1. */
  rankBiserial: number;
}

/** Largest n for the exact null distribution; above it, the normal approximation is accurate. */
export const EXACT_MAX_N = 25;

/** Ranks of values (1-based), ties sharing their mean rank; plus the sizes of the tie groups. */
function rankWithTies(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = rank;
    if (end > start) ties.push(end - start + 1);
    start = end + 1;
  }
  return { ranks, ties };
}

/** P(W+ <= w) under the null for n untied ranks: counts of subsets of 1..n by rank sum. */
function exactCdf(n: number, w: number): number {
  const max = (n * (n + 1)) / 2;
  let counts = new Float64Array(max + 1);
  counts[0] = 1;
  for (let k = 1; k <= n; k++) {
    const next = counts.slice();
    for (let s = k; s <= max; s++) next[s]! += counts[s - k]!;
    counts = next;
  }
  let below = 0;
  for (let s = 0; s <= Math.floor(w); s++) below += counts[s]!;
  return below / 2 ** n;
}

/**
 * Wilcoxon signed-rank test (Wilcoxon 1945) of paired differences against a median of zero,
 * two-sided. Exact null distribution for n <= 25 without ties; otherwise the normal approximation
 * with the tie correction of the variance and a continuity correction (as scipy.stats.wilcoxon with
 * method='approx', correction=True).
 */
export function wilcoxonSignedRank(differences: readonly number[]): WilcoxonResult {
  const nonZero = differences.filter((d) => d !== 0);
  const zeros = differences.length - nonZero.length;
  const n = nonZero.length;
  if (n === 0) return { n, zeros, wPlus: 0, wMinus: 0, p: 1, method: 'exact', rankBiserial: 0 };
  const { ranks, ties } = rankWithTies(nonZero.map(Math.abs));
  let wPlus = 0;
  let wMinus = 0;
  nonZero.forEach((d, i) => (d > 0 ? (wPlus += ranks[i]!) : (wMinus += ranks[i]!)));
  const rankBiserial = (wPlus - wMinus) / (wPlus + wMinus);
  if (n <= EXACT_MAX_N && ties.length === 0) {
    const small = Math.min(wPlus, wMinus);
    return { n, zeros, wPlus, wMinus, p: Math.min(1, 2 * exactCdf(n, small)), method: 'exact', rankBiserial };
  }
  const expected = (n * (n + 1)) / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - ties.reduce((s, t) => s + t ** 3 - t, 0) / 48;
  const distance = Math.max(0, Math.abs(wPlus - expected) - 0.5);
  const p = variance > 0 ? Math.min(1, 2 * normalSf(distance / Math.sqrt(variance))) : 1;
  return { n, zeros, wPlus, wMinus, p, method: 'normal', rankBiserial };
}
