import { quantileSorted } from '../statistics/descriptive';

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function scale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain[0] === domain[1] ? [domain[0] - 0.05, domain[1] + 0.05] : domain;
  return (v) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0]);
}

function ticks(lo: number, hi: number, count = 5): number[] {
  return Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

/** One box per label (quartiles, whiskers to min/max) with every value drawn as a point: with 2-3 seeds the points are the honest part. */
export function boxPlotSvg(title: string, series: { label: string; values: number[] }[]): string {
  const width = Math.max(120 + series.length * 110, 40 + title.length * 7);
  const height = 260;
  const all = series.flatMap((s) => s.values);
  const lo = all.length ? Math.max(0, Math.min(...all) - 0.05) : 0;
  const hi = all.length ? Math.min(1, Math.max(...all) + 0.05) : 1;
  const y = scale([lo, hi], [height - 50, 30]);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`, `<text x="10" y="18" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`];
  for (const t of ticks(lo, hi)) parts.push(`<line x1="60" x2="${width - 10}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="55" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${t.toFixed(hi - lo < 0.2 ? 3 : 2)}</text>`);
  series.forEach((s, i) => {
    const cx = 110 + i * 110;
    const color = PALETTE[i % PALETTE.length]!;
    const sorted = [...s.values].sort((a, b) => a - b);
    if (sorted.length) {
      const [q1, q2, q3] = [0.25, 0.5, 0.75].map((q) => y(quantileSorted(sorted, q)));
      parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(sorted[0]!).toFixed(1)}" y2="${y(sorted.at(-1)!).toFixed(1)}" stroke="${color}"/>`);
      parts.push(`<rect x="${cx - 25}" y="${q3!.toFixed(1)}" width="50" height="${Math.max(1, q1! - q3!).toFixed(1)}" fill="${color}" fill-opacity="0.15" stroke="${color}"/>`);
      parts.push(`<line x1="${cx - 25}" x2="${cx + 25}" y1="${q2!.toFixed(1)}" y2="${q2!.toFixed(1)}" stroke="${color}" stroke-width="2"/>`);
      sorted.forEach((v, k) => parts.push(`<circle class="seed-point" data-value="${v}" cx="${(cx - 12 + (24 * k) / Math.max(1, sorted.length - 1)).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${color}"/>`));
    }
    parts.push(`<text x="${cx}" y="${height - 30}" font-size="11" text-anchor="middle">${escapeHtml(s.label)}</text><text x="${cx}" y="${height - 16}" font-size="10" text-anchor="middle" fill="#666">n=${s.values.length}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Forest plot: one row per recipe, the mean paired difference with its CI, a line at zero. */
export function forestPlotSvg(title: string, rows: { label: string; estimate: number; low: number; high: number; note: string }[]): string {
  const width = 760;
  const height = 50 + rows.length * 28 + 30;
  const extent = Math.max(0.02, ...rows.flatMap((r) => [Math.abs(r.low), Math.abs(r.high)])) * 1.1;
  const x = scale([-extent, extent], [170, width - 270]);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`, `<text x="10" y="18" font-size="13" font-weight="bold">${escapeHtml(title)}</text>`];
  parts.push(`<line x1="${x(0)}" x2="${x(0)}" y1="30" y2="${height - 30}" stroke="#999" stroke-dasharray="4 3"/>`);
  for (const t of ticks(-extent, extent)) parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 12}" font-size="10" text-anchor="middle">${t.toFixed(3)}</text>`);
  rows.forEach((r, i) => {
    const cy = 45 + i * 28;
    parts.push(`<text x="10" y="${cy + 4}" font-size="11">${escapeHtml(r.label)}</text>`);
    parts.push(`<line x1="${x(r.low).toFixed(1)}" x2="${x(r.high).toFixed(1)}" y1="${cy}" y2="${cy}" stroke="#333" stroke-width="2"/>`);
    parts.push(`<rect class="forest-estimate" data-value="${r.estimate}" x="${(x(r.estimate) - 4).toFixed(1)}" y="${cy - 4}" width="8" height="8" fill="#1f77b4"/>`);
    parts.push(`<text x="${width - 260}" y="${cy + 4}" font-size="11">${escapeHtml(r.note)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Validation Dice per epoch, one line per cell. */
export function learningCurvesSvg(title: string, series: { label: string; points: { epoch: number; value: number }[] }[]): string {
  const width = 420;
  const height = 220;
  const epochs = series.flatMap((s) => s.points.map((p) => p.epoch));
  const maxEpoch = Math.max(1, ...epochs);
  const x = scale([1, Math.max(2, maxEpoch)], [50, width - 130]);
  const y = scale([0, 1], [height - 30, 25]);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`, `<text x="10" y="16" font-size="12" font-weight="bold">${escapeHtml(title)}</text>`];
  for (const t of ticks(0, 1)) parts.push(`<line x1="50" x2="${width - 130}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="45" y="${(y(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${t.toFixed(2)}</text>`);
  parts.push(`<text x="${(width - 80) / 2}" y="${height - 8}" font-size="10" text-anchor="middle">epoch (1-${maxEpoch})</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const points = s.points.map((p) => `${x(p.epoch).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    for (const p of s.points) parts.push(`<circle cx="${x(p.epoch).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="2.5" fill="${color}"/>`);
    parts.push(`<text x="${width - 125}" y="${30 + i * 14}" font-size="10" fill="${color}">${escapeHtml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
