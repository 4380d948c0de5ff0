import type { ConfigurationSummary, MetricSummary, RecipeComparison } from '../statistics/compare-recipes';
import { ALPHA, BASELINE_RECIPE } from '../statistics/compare-recipes';
import { fixed, pValue } from './format-number';
import { publishedFor } from './published-results';

function meanSd(metric: MetricSummary, digits = 4): string {
  if (metric.mean === null) return '-';
  return metric.sd === null ? fixed(metric.mean, digits) : `${fixed(metric.mean, digits)} ± ${fixed(metric.sd, digits)}`;
}

function ci(metric: MetricSummary): string {
  return metric.ci ? `[${fixed(metric.ci.low, 3)}, ${fixed(metric.ci.high, 3)}]` : '-';
}

function perClassCell(row: ConfigurationSummary, name: string): string {
  const metric = row.perClass.find((c) => c.name === name)?.dice;
  return metric ? meanSd(metric) : '-';
}

/**
 * The study's table layout per model and loss: recipe rows, Test Loss / F1 / mIoU columns (mean ±
 * sd over seeds), the bootstrap CI of F1, the comparison with origin and its verdict, and the
 * study's own single-run figures in separate columns labelled as theirs.
 */
export function resultsMarkdown(name: string, configurations: readonly ConfigurationSummary[], comparisons: readonly RecipeComparison[]): string {
  const lines = [`# Experiment ${name}`, ''];
  lines.push(
    `Mean ± sd over seeds; F1 = Dice per image; 95% CI = percentile bootstrap of the mean over seeds. "vs origin": paired per-test-slice Dice differences pooled over seeds, Wilcoxon signed-rank, Holm-adjusted within each table, effect = matched-pairs rank-biserial r; verdicts at α = ${ALPHA}. "Study" columns: the published single-run numbers, theirs, not ours.`,
    '',
  );
  const groups = [...new Set(configurations.map((c) => c.group))];
  for (const group of groups) {
    const rows = configurations.filter((c) => c.group === group);
    lines.push(`## ${group}`, '');
    // Three-class groups: one F1 column per foreground class after mIoU.
    const classes = [...new Set(rows.flatMap((r) => r.perClass.map((c) => c.name)))];
    lines.push(`| Recipe | Seeds | Test Loss | F1 | F1 95% CI | mIoU | ${classes.map((c) => `${c} F1 | `).join('')}Δ F1 vs origin (median) | r | p (Holm) | Verdict | Study F1 | Study mIoU |`);
    lines.push(`|---|---|---|---|---|---|${classes.map(() => '---|').join('')}---|---|---|---|---|---|`);
    for (const row of rows) {
      const comparison = comparisons.find((c) => c.group === group && c.recipe === row.recipe);
      const published = publishedFor(row.model, row.loss, row.recipe);
      const versus =
        row.recipe === BASELINE_RECIPE
          ? ['(baseline)', '', '', '']
          : comparison
            ? [fixed(comparison.medianDifference), fixed(comparison.test?.rankBiserial ?? null, 3), pValue(comparison.pHolm), comparison.verdict]
            : ['-', '-', '-', 'no origin to compare with'];
      lines.push(
        `| ${row.recipe} | ${row.done}/${row.total} | ${meanSd(row.testLoss)} | ${meanSd(row.dice)} | ${ci(row.dice)} | ${meanSd(row.miou)} | ${classes.map((c) => `${perClassCell(row, c)} | `).join('')}${versus.join(' | ')} | ${fixed(published?.f1)} | ${fixed(published?.miou)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
