import type { CellResult } from '../statistics/collect-results';
import { BASELINE_RECIPE, classNamesOf, groupOf, type ConfigurationSummary, type RecipeComparison } from '../statistics/compare-recipes';
import { fixed, pValue } from './format-number';
import { publishedFor } from './published-results';
import { boxPlotSvg, escapeHtml, forestPlotSvg, learningCurvesSvg } from './svg-charts';

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child,td.text{text-align:left}td.failed{color:#b00}.note{color:#555;font-size:13px}.curves{display:flex;flex-wrap:wrap;gap:8px}`;

/**
 * A self-contained report (no network, no scripts): per group the summary table, box plots of Dice
 * per recipe with each seed as a point, the forest plot of paired differences against origin and
 * validation-Dice learning curves; then every cell with its full-precision numbers (the same
 * values as results.csv, carried in data-* attributes so they can be checked).
 */
export function reportHtml(name: string, results: readonly CellResult[], configurations: readonly ConfigurationSummary[], comparisons: readonly RecipeComparison[]): string {
  const body: string[] = [`<h1>Experiment ${escapeHtml(name)}</h1>`];
  const done = results.filter((r) => r.state === 'done').length;
  const failed = results.filter((r) => r.state === 'failed').length;
  body.push(`<p class="note">${results.length} cells: ${done} done, ${failed} failed, ${results.length - done - failed} pending. F1 = Dice per image on the test split. Comparisons: paired per-slice Dice differences (recipe − origin) pooled over seeds, Wilcoxon signed-rank with Holm correction within each group; CI of the mean difference by seeded percentile bootstrap. "Study" = the published single-run figure, theirs.</p>`);
  for (const group of [...new Set(configurations.map((c) => c.group))]) {
    const rows = configurations.filter((c) => c.group === group);
    body.push(`<h2>${escapeHtml(group)}</h2>`);
    const classes = [...new Set(rows.flatMap((r) => r.perClass.map((c) => c.name)))];
    body.push(`<table class="summary"><tr><th>Recipe</th><th>Seeds</th><th>Test loss</th><th>F1 mean ± sd</th><th>F1 95% CI</th><th>mIoU</th><th>HD95</th>${classes.map((c) => `<th>${escapeHtml(c)} F1</th>`).join('')}<th>Median Δ F1</th><th>r</th><th>p (Holm)</th><th>Verdict</th><th>Study F1</th></tr>`);
    for (const row of rows) {
      const c = comparisons.find((x) => x.group === group && x.recipe === row.recipe);
      const published = publishedFor(row.model, row.loss, row.recipe);
      const versus = row.recipe === BASELINE_RECIPE ? ['baseline', '', '', ''] : c ? [fixed(c.medianDifference), fixed(c.test?.rankBiserial ?? null, 3), pValue(c.pHolm), c.verdict] : ['-', '-', '-', '-'];
      body.push(
        `<tr><td>${escapeHtml(row.recipe)}</td><td>${row.done}/${row.total}</td><td>${fixed(row.testLoss.mean)}</td><td>${row.dice.mean === null ? '-' : `${fixed(row.dice.mean)} ± ${fixed(row.dice.sd)}`}</td><td>${row.dice.ci ? `${fixed(row.dice.ci.low, 3)} – ${fixed(row.dice.ci.high, 3)}` : '-'}</td><td>${fixed(row.miou.mean)}</td><td>${fixed(row.hd95.mean, 2)}</td>${classes.map((c) => { const m = row.perClass.find((k) => k.name === c)?.dice; return `<td>${m?.mean == null ? '-' : `${fixed(m.mean)} ± ${fixed(m.sd)}`}</td>`; }).join('')}${versus.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}<td>${fixed(published?.f1)}</td></tr>`,
      );
    }
    body.push('</table>');
    body.push(boxPlotSvg(`Test Dice per recipe (${group}); points are seeds`, rows.map((r) => ({ label: r.recipe, values: r.dice.values }))));
    const forest = comparisons.filter((c) => c.group === group && c.differenceCi && c.meanDifference !== null);
    if (forest.length) {
      body.push(forestPlotSvg(`Paired Dice difference vs origin (${group}), mean and 95% CI`, forest.map((c) => ({ label: c.recipe, estimate: c.meanDifference!, low: c.differenceCi!.low, high: c.differenceCi!.high, note: `${c.verdict} (n=${c.pairs})` }))));
    }
    const disagreeing = comparisons.filter((c) => c.group === group && c.disagreements.length > 0);
    if (disagreeing.length) {
      body.push('<h3>Test slices where each recipe and origin disagree most (mean Dice difference over seeds)</h3><table class="disagreements"><tr><th>Recipe</th><th>Slice</th><th>Δ Dice</th></tr>');
      for (const c of disagreeing) for (const d of c.disagreements) body.push(`<tr><td>${escapeHtml(c.recipe)}</td><td>${escapeHtml(d.slice)}</td><td>${fixed(d.difference)}</td></tr>`);
      body.push('</table><p class="note">Open these slices in the slice browser with each cell\'s run to see the masks side by side.</p>');
    }
    const curves = results.filter((r) => groupOf(r) === group && r.curve.some((p) => p.valDice !== null));
    if (curves.length) {
      body.push('<h3>Learning curves (validation Dice)</h3><div class="curves">');
      for (const recipe of [...new Set(curves.map((r) => r.cell.recipe))]) {
        const cells = curves.filter((r) => r.cell.recipe === recipe);
        body.push(learningCurvesSvg(recipe, cells.map((r) => ({ label: `seed ${r.cell.seed}`, points: r.curve.filter((p) => p.valDice !== null).map((p) => ({ epoch: p.epoch, value: p.valDice! })) }))));
      }
      body.push('</div>');
    }
  }
  const cellClasses = classNamesOf(results);
  body.push(`<h2>Cells</h2><table class="cells"><tr><th>Cell</th><th>State</th><th>Epochs</th><th>Test loss</th><th>Dice</th><th>IoU</th><th>mIoU</th><th>HD95</th>${cellClasses.map((c) => `<th>${escapeHtml(c)} Dice</th>`).join('')}<th>Error</th></tr>`);
  for (const r of results) {
    const cell = (key: string, value: number | null, digits = 4) => `<td data-key="${key}" data-value="${value ?? ''}">${fixed(value, digits)}</td>`;
    body.push(
      `<tr data-cell="${escapeHtml(r.cell.id)}"><td>${escapeHtml(r.cell.id)}</td><td class="${r.state}">${r.state}</td><td>${r.epochs ?? '-'}</td>${cell('test_loss', r.testLoss)}${cell('dice', r.dice)}${cell('iou', r.iou)}${cell('miou', r.miou)}${cell('hd95', r.hd95, 2)}${cellClasses.map((c) => cell(`${c.replace(/\W/g, '_')}_dice`, r.perClass.find((k) => k.name === c)?.dice ?? null)).join('')}<td class="text">${escapeHtml(r.error ?? '')}</td></tr>`,
    );
  }
  body.push('</table>');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Experiment ${escapeHtml(name)}</title><style>${STYLE}</style></head><body>${body.join('\n')}</body></html>\n`;
}
