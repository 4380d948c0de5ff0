import type { CellResult } from './collect-results';
import { bootstrapMeanCi, type BootstrapInterval } from './bootstrap';
import { mean, median, sampleSd } from './descriptive';
import { holmAdjust } from './holm';
import { wilcoxonSignedRank, type WilcoxonResult } from './wilcoxon';

/** The recipe every other is compared with. */
export const BASELINE_RECIPE = 'origin';
/** Family-wise error rate of the verdicts. */
export const ALPHA = 0.05;

export interface MetricSummary {
  mean: number | null;
  sd: number | null;
  ci: BootstrapInterval | null;
  values: number[];
}

/** One configuration (everything but the seed) summarised over its seeds. */
export interface ConfigurationSummary {
  /** model, loss and any other axis, the recipe excluded: the rows of one table share it. */
  group: string;
  recipe: string;
  model: string;
  loss: string;
  seeds: number[];
  done: number;
  total: number;
  dice: MetricSummary;
  iou: MetricSummary;
  miou: MetricSummary;
  testLoss: MetricSummary;
  hd95: MetricSummary;
  /** Three-class configurations: each foreground class's Dice and IoU over seeds (empty for the binary task). */
  perClass: { name: string; dice: MetricSummary; iou: MetricSummary }[];
}

export type Verdict = 'better' | 'worse' | 'no evidence of a difference' | 'not enough data';

/** A recipe against origin in one group: paired per-slice Dice differences pooled over seeds. */
export interface RecipeComparison {
  group: string;
  recipe: string;
  model: string;
  loss: string;
  /** Pairs (seed, slice) where both runs define Dice. */
  pairs: number;
  seedsPaired: number;
  meanDifference: number | null;
  medianDifference: number | null;
  /** Seeded percentile-bootstrap 95% CI of the mean difference (over pairs), for the forest plot. */
  differenceCi: BootstrapInterval | null;
  test: WilcoxonResult | null;
  /** Test slices where the two recipes disagree most (mean difference over seeds), largest first. */
  disagreements: { slice: string; difference: number }[];
  pHolm: number | null;
  verdict: Verdict;
}

export function groupOf(result: CellResult): string {
  const extra = Object.entries(result.cell.options).map(([k, v]) => `${k}=${v}`);
  return [result.cell.model, result.cell.loss, ...(result.cell.classes !== 'lesion' ? [result.cell.classes] : []), ...extra].join(' / ');
}

/** The foreground classes of some cells, in the order the first cell lists them. */
export function classNamesOf(results: readonly CellResult[]): string[] {
  return [...new Set(results.flatMap((r) => r.perClass.map((c) => c.name)))];
}

function summarise(values: (number | null)[], seed: number): MetricSummary {
  const defined = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return { mean: defined.length ? mean(defined) : null, sd: sampleSd(defined), ci: bootstrapMeanCi(defined, { seed }), values: defined };
}

/** Mean +- sd over seeds and a seeded 95% bootstrap CI of the mean, per configuration. */
export function summariseConfigurations(results: readonly CellResult[], bootstrapSeed = 1): ConfigurationSummary[] {
  const byKey = new Map<string, CellResult[]>();
  for (const r of results) {
    const key = `${groupOf(r)}\u0000${r.cell.recipe}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return [...byKey.values()].map((cells) => {
    const first = cells[0]!;
    const done = cells.filter((c) => c.state === 'done');
    return {
      group: groupOf(first),
      recipe: first.cell.recipe,
      model: first.cell.model,
      loss: first.cell.loss,
      seeds: done.map((c) => c.cell.seed),
      done: done.length,
      total: cells.length,
      dice: summarise(done.map((c) => c.dice), bootstrapSeed),
      iou: summarise(done.map((c) => c.iou), bootstrapSeed),
      miou: summarise(done.map((c) => c.miou), bootstrapSeed),
      testLoss: summarise(done.map((c) => c.testLoss), bootstrapSeed),
      hd95: summarise(done.map((c) => c.hd95), bootstrapSeed),
      perClass: classNamesOf(done).map((name) => ({
        name,
        dice: summarise(done.map((c) => c.perClass.find((k) => k.name === name)?.dice ?? null), bootstrapSeed),
        iou: summarise(done.map((c) => c.perClass.find((k) => k.name === name)?.iou ?? null), bootstrapSeed),
      })),
    };
  });
}

/** How many slices of most disagreement a comparison lists. */
export const DISAGREEMENTS = 3;

/** Mean recipe − origin Dice per slice over the paired seeds, the largest |difference| first. */
export function largestDisagreements(recipeCells: readonly CellResult[], originCells: readonly CellResult[], count = DISAGREEMENTS): { slice: string; difference: number }[] {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const cell of recipeCells) {
    const origin = originCells.find((o) => o.cell.seed === cell.cell.seed && o.state === 'done');
    if (cell.state !== 'done' || !origin) continue;
    const originDice = new Map(origin.slices.map((s) => [s.id, s.dice]));
    for (const slice of cell.slices) {
      const other = originDice.get(slice.id);
      if (slice.dice === null || other === undefined || other === null) continue;
      const entry = sums.get(slice.id) ?? { sum: 0, n: 0 };
      sums.set(slice.id, { sum: entry.sum + slice.dice - other, n: entry.n + 1 });
    }
  }
  return [...sums.entries()]
    .map(([slice, { sum, n }]) => ({ slice, difference: sum / n }))
    .sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference) || a.slice.localeCompare(b.slice))
    .slice(0, count);
}

/** recipe - origin Dice for every test slice of every seed where both runs finished and define Dice. */
export function pairedDifferences(recipeCells: readonly CellResult[], originCells: readonly CellResult[]): { differences: number[]; seeds: number } {
  const differences: number[] = [];
  let seeds = 0;
  for (const cell of recipeCells) {
    const origin = originCells.find((o) => o.cell.seed === cell.cell.seed && o.state === 'done');
    if (cell.state !== 'done' || !origin) continue;
    seeds++;
    const originDice = new Map(origin.slices.map((s) => [s.id, s.dice]));
    for (const slice of cell.slices) {
      const other = originDice.get(slice.id);
      if (slice.dice !== null && other !== undefined && other !== null) differences.push(slice.dice - other);
    }
  }
  return { differences, seeds };
}

/**
 * Each recipe against origin for the same model and loss: Wilcoxon signed-rank on the paired
 * per-slice differences, Holm-adjusted across the recipes of the group, with the rank-biserial
 * effect size. The verdict names a direction only when the adjusted p is below {@link ALPHA}.
 */
export function compareWithOrigin(results: readonly CellResult[]): RecipeComparison[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) groups.set(groupOf(r), [...(groups.get(groupOf(r)) ?? []), r]);
  const comparisons: RecipeComparison[] = [];
  for (const [group, cells] of groups) {
    const origin = cells.filter((c) => c.cell.recipe === BASELINE_RECIPE);
    if (origin.length === 0) continue;
    const recipes = [...new Set(cells.map((c) => c.cell.recipe))].filter((r) => r !== BASELINE_RECIPE);
    const rows = recipes.map((recipe) => {
      const own = cells.filter((c) => c.cell.recipe === recipe);
      const { differences, seeds } = pairedDifferences(own, origin);
      return {
        group,
        recipe,
        model: own[0]!.cell.model,
        loss: own[0]!.cell.loss,
        pairs: differences.length,
        seedsPaired: seeds,
        meanDifference: differences.length ? mean(differences) : null,
        medianDifference: differences.length ? median(differences) : null,
        differenceCi: bootstrapMeanCi(differences, { seed: 1 }),
        test: differences.length ? wilcoxonSignedRank(differences) : null,
        disagreements: largestDisagreements(own, origin),
      };
    });
    const tested = rows.filter((r) => r.test !== null);
    const adjusted = holmAdjust(tested.map((r) => r.test!.p));
    for (const row of rows) {
      const index = tested.indexOf(row);
      const pHolm = index >= 0 ? adjusted[index]! : null;
      let verdict: Verdict = 'not enough data';
      if (row.test && pHolm !== null) verdict = pHolm >= ALPHA || row.test.rankBiserial === 0 ? 'no evidence of a difference' : row.test.rankBiserial > 0 ? 'better' : 'worse';
      comparisons.push({ ...row, pHolm, verdict });
    }
  }
  return comparisons;
}
