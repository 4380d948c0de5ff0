import { describe, expect, it } from 'vitest';
import { reportHtml } from '../../../../../src-main/engine/experiments/report/report-html';
import { resultsCsv } from '../../../../../src-main/engine/experiments/report/results-csv';
import { resultsMarkdown } from '../../../../../src-main/engine/experiments/report/results-markdown';
import type { CellResult } from '../../../../../src-main/engine/experiments/statistics/collect-results';
import { compareWithOrigin, summariseConfigurations } from '../../../../../src-main/engine/experiments/statistics/compare-recipes';

function cell(recipe: string, seed: number, dice: number | null, state: CellResult['state'] = 'done', error?: string): CellResult {
  return {
    cell: { id: `${recipe}__unet__bce__s${seed}`, recipe, model: 'unet', loss: 'bce', seed, classes: 'lesion', options: {} },
    state,
    ...(error ? { error } : {}),
    epochs: state === 'done' ? 3 : null,
    seconds: state === 'done' ? 12.5 : null,
    testLoss: dice === null ? null : 1 - dice,
    dice,
    iou: dice === null ? null : dice / (2 - dice),
    miou: dice === null ? null : 0.5 + dice / 3,
    hd95: dice === null ? null : 10 * dice,
    perClass: [],
    slices: dice === null ? [] : [0, 1, 2, 3, 4, 5].map((i) => ({ id: `s${i}`, dice: recipe === 'origin' ? dice - i * 0.01 : dice + i * 0.013 })),
    curve: [
      { epoch: 1, trainLoss: 0.9, valLoss: 0.8, valDice: 0.2 },
      { epoch: 2, trainLoss: 0.7, valLoss: 0.6, valDice: 0.4 },
    ],
  };
}

const results = [cell('origin', 1, 0.61234567), cell('origin', 2, 0.7), cell('fliprot+elastic', 1, 0.66), cell('fliprot+elastic', 2, 0.72), cell('origin+gan', 1, null, 'failed', 'exit code 1: error: <no pairs> & "none"')];

function htmlCells(html: string): Map<string, Record<string, string>> {
  const rows = new Map<string, Record<string, string>>();
  for (const row of html.matchAll(/<tr data-cell="([^"]+)">(.*?)<\/tr>/g)) {
    rows.set(row[1]!, Object.fromEntries([...row[2]!.matchAll(/data-key="([^"]+)" data-value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
  }
  return rows;
}

describe('experiment report files', () => {
  const configurations = summariseConfigurations(results);
  const comparisons = compareWithOrigin(results);
  const html = reportHtml('t', results, configurations, comparisons);
  const csv = resultsCsv(results).trim().split('\n');

  it('carries exactly the results.csv numbers in the HTML cell table', () => {
    const header = csv[0]!.split(',');
    const shown = htmlCells(html);
    expect(shown.size).toBe(results.length);
    for (const line of csv.slice(1, 5)) {
      const values = Object.fromEntries(line.split(',').map((v, i) => [header[i]!, v]));
      for (const key of ['test_loss', 'dice', 'iou', 'miou', 'hd95']) expect(shown.get(values.cell!)![key]).toBe(values[key]);
    }
    expect(csv[1]).toContain(',0.61234567,');
  });

  it('is self-contained and escapes what it quotes', () => {
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    expect(html).toContain('exit code 1: error: &lt;no pairs&gt; &amp; &quot;none&quot;');
    expect(csv.at(-1)).toContain('"exit code 1: error: <no pairs> & ""none"""');
    expect(html.match(/class="seed-point"/g)).toHaveLength(4);
    expect(html).toContain('<table class="disagreements">');
  });

  it('lays out the markdown table with mean ± sd, verdicts and the study figures labelled as theirs', () => {
    const md = resultsMarkdown('t', configurations, comparisons);
    // Dice 0.61234567 and 0.7: mean 0.65617, sd = 0.08765433 / sqrt(2) = 0.06198.
    expect(md).toContain('| origin | 2/2 | 0.3438 ± 0.0620 | 0.6562 ± 0.0620 |');
    // 12 pairs, all positive: exact two-sided p = 2 / 2^12 = 0.000488, r = 1; one test, so Holm leaves it.
    expect(md).toMatch(/\| fliprot\+elastic \| 2\/2 \| .* \| 1\.000 \| 0\.000488 \| better \| - \| - \|/);
    expect(md).toMatch(/\| origin\+gan \| 0\/1 \| - \| - \| - \| - \| - \| - \| - \| not enough data \| 0\.8333 \| 0\.7460 \|/);
    expect(md).toMatch(/"Study" columns: the published single-run numbers, theirs, not ours/);
  });

  it('adds per-class columns for a three-class grid: ground-glass and consolidation Dice per cell and mean ± sd per recipe', () => {
    const threeClass = (recipe: string, seed: number, ggo: number, cons: number | null): CellResult => {
      const base = cell(recipe, seed, (ggo + (cons ?? ggo)) / 2);
      return { ...base, cell: { ...base.cell, id: `${base.cell.id}__ggo`, classes: 'ggo-consolidation' }, perClass: [{ name: 'ground-glass', dice: ggo, iou: ggo / 2 }, { name: 'consolidation', dice: cons, iou: cons === null ? null : cons / 2 }] };
    };
    const grid = [threeClass('origin', 1, 0.5, 0.3), threeClass('origin', 2, 0.7, 0.5), threeClass('fliprot+elastic', 1, 0.6, null), cell('origin', 3, 0.4)];
    const configurations = summariseConfigurations(grid);
    const lines = resultsCsv(grid).trim().split('\n');
    const header = lines[0]!.split(',');
    expect(header.slice(header.indexOf('hd95') + 1, header.indexOf('test_slices'))).toEqual(['ground_glass_dice', 'ground_glass_iou', 'consolidation_dice', 'consolidation_iou']);
    const row = (i: number) => Object.fromEntries(lines[i]!.split(',').map((v, k) => [header[k]!, v]));
    expect([row(1).ground_glass_dice, row(1).consolidation_iou]).toEqual(['0.5', '0.15']);
    expect([row(3).consolidation_dice, row(4).ground_glass_dice]).toEqual(['', '']);
    const md = resultsMarkdown('t', configurations, compareWithOrigin(grid));
    expect(md).toContain('| Recipe | Seeds | Test Loss | F1 | F1 95% CI | mIoU | ground-glass F1 | consolidation F1 | Δ F1 vs origin');
    // ground-glass 0.5 and 0.7: mean 0.6, sd 0.1414; consolidation 0.3 and 0.5: mean 0.4.
    expect(md).toMatch(/\| origin \| 2\/2 \| .* \| 0\.6000 ± 0\.1414 \| 0\.4000 ± 0\.1414 \| \(baseline\)/);
    expect(md).toMatch(/\| fliprot\+elastic \| 1\/1 \| .* \| 0\.6000 \| - \| /);
    // The binary group keeps the binary layout.
    expect(md).toMatch(/## unet \/ bce\n\n\| Recipe \| Seeds \| Test Loss \| F1 \| F1 95% CI \| mIoU \| Δ F1/);
    const html = reportHtml('t', grid, configurations, compareWithOrigin(grid));
    expect(htmlCells(html).get('origin__unet__bce__s1__ggo')!.ground_glass_dice).toBe('0.5');
    expect(html).toContain('<th>consolidation F1</th>');
  });
});
