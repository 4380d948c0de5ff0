/**
 * Holm's step-down adjustment (Holm 1979) of p-values from a family of tests: the k-th smallest
 * is multiplied by (m - k + 1), made monotone, capped at 1. Controls the family-wise error rate
 * without assuming independence. Returned in the input order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, index], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    adjusted[index] = running;
  });
  return adjusted;
}
