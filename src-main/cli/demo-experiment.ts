import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { validateExperiment } from '../engine/experiments/experiment-file';
import { EXPERIMENT_PRESETS } from '../engine/experiments/experiment-presets';
import { writeExperimentReport } from '../engine/experiments/report/write-report';
import { runExperiment } from '../engine/experiments/run-experiment';
import type { CliContext } from './output';

/** The demo's experiment folder, inside its workspace (replaced by each demo). */
export const DEMO_EXPERIMENT_DIR = 'experiment';

/**
 * The demo's experiment step: the `quick` preset (origin vs fliprot+elastic, tiny U-Net, 2 epochs at
 * 32 px, seeds 1 and 2) on the demo's sample and split, two cells at once, then the paper-style table.
 * About half a minute on 2 cores; the numbers are a toy's, the layout is the study's.
 */
export async function runDemoExperiment(workspace: string, sampleDir: string, splitFile: string, io: CliContext): Promise<void> {
  const spec = validateExperiment({ ...EXPERIMENT_PRESETS.quick, dataset: sampleDir, split: splitFile }, 'preset quick', workspace);
  const expDir = join(workspace, DEMO_EXPERIMENT_DIR);
  io.out(`experiment: ${spec.axes.recipes.join(' vs ')} x seeds ${spec.axes.seeds.join(', ')} (tiny U-Net, ${spec.fixed.epochs} epochs at ${spec.fixed.size} px), 2 cells at once ...`);
  const parallel = Math.min(2, availableParallelism());
  const outcome = await runExperiment(spec, { expDir, parallel });
  const report = await writeExperimentReport(expDir);
  // The table of the one group, without the file's preamble.
  const table = report.markdown.split('\n').filter((line) => line.startsWith('|')).join('\n');
  io.out(`${table.replace(/^/gm, '    ')}\n    ${outcome.ran} cell(s) trained, ${outcome.failed} failed; report: ${join(expDir, 'report.html')} (also results.md, results.csv)`);
}
