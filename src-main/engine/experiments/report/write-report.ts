import { join } from 'node:path';
import { writeFileAtomic } from '../../files/atomic-write';
import { collectResults, type CellResult } from '../statistics/collect-results';
import { compareWithOrigin, summariseConfigurations, type ConfigurationSummary, type RecipeComparison } from '../statistics/compare-recipes';
import { reportHtml } from './report-html';
import { resultsCsv } from './results-csv';
import { resultsMarkdown } from './results-markdown';

export const REPORT_FILES = { csv: 'results.csv', markdown: 'results.md', html: 'report.html' } as const;

export interface ExperimentReport {
  name: string;
  results: CellResult[];
  configurations: ConfigurationSummary[];
  comparisons: RecipeComparison[];
  markdown: string;
  files: string[];
}

/** Reads an experiment folder and writes results.csv, results.md and report.html into it. */
export async function writeExperimentReport(expDir: string): Promise<ExperimentReport> {
  const { state, results } = await collectResults(expDir);
  const configurations = summariseConfigurations(results);
  const comparisons = compareWithOrigin(results);
  const markdown = resultsMarkdown(state.name, configurations, comparisons);
  const files = [join(expDir, REPORT_FILES.csv), join(expDir, REPORT_FILES.markdown), join(expDir, REPORT_FILES.html)];
  await writeFileAtomic(files[0]!, resultsCsv(results));
  await writeFileAtomic(files[1]!, markdown);
  await writeFileAtomic(files[2]!, reportHtml(state.name, results, configurations, comparisons));
  return { name: state.name, results, configurations, comparisons, markdown, files };
}
