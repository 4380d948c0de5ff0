/**
 * The lung map as an edit target of the Annotate tools: `[height, width]` row-major bytes in source
 * coordinates, 0 outside, 1 and 2 the two lungs (numbered as the computed mask numbers them). Pure
 * functions; the store applies what they return as one undo step.
 */

/** Lesion pixels (label > 0) that lie outside both lungs. */
export function lesionOutsideLung(labels: Uint8Array, lung: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > 0 && lung[i] === 0) n++;
  return n;
}

/**
 * The lung map with the lesion outside it added ("add lesion to lung"): each such pixel joins the
 * lung whose centroid is nearer (consolidation is lung tissue the threshold missed, beside the lung
 * it belongs to); with one lung or none it joins `fallback`, the side chosen in the toolbar.
 */
export function addLesionToLung(labels: Uint8Array, lung: Uint8Array, width: number, fallback: 1 | 2): Uint8Array {
  const sum = [
    { n: 0, x: 0, y: 0 },
    { n: 0, x: 0, y: 0 },
  ];
  for (let i = 0; i < lung.length; i++) {
    const v = lung[i]!;
    if (v !== 1 && v !== 2) continue;
    sum[v - 1]!.n++;
    sum[v - 1]!.x += i % width;
    sum[v - 1]!.y += Math.floor(i / width);
  }
  const centres = sum.map((s) => (s.n > 0 ? { x: s.x / s.n, y: s.y / s.n } : null));
  const out = lung.slice();
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 0 || lung[i] !== 0) continue;
    const [a, b] = centres;
    if (!a || !b) {
      out[i] = fallback;
      continue;
    }
    const x = i % width;
    const y = Math.floor(i / width);
    out[i] = (x - a.x) ** 2 + (y - a.y) ** 2 <= (x - b.x) ** 2 + (y - b.y) ** 2 ? 1 : 2;
  }
  return out;
}
