import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { checkDataset } from '../engine/datasets/check-dataset';
import { openDataset } from '../engine/datasets/open-dataset';
import { scanDataset } from '../engine/datasets/scan-dataset';
import { splitDataset, writeSplit } from '../engine/datasets/split-dataset';
import { writeSyntheticSample } from '../engine/datasets/synthetic/write-sample';
import { formatReport } from './dataset-command';
import type { CliContext } from './output';
import { formatSplit } from './split-command';

/** The main job on the built-in sample: make it, check it, split it (training joins in later steps). */
export function registerDemoCommand(program: Command, io: CliContext): void {
  program
    .command('demo')
    .description('run the main job on the built-in synthetic sample (no download needed)')
    .option('--workspace <dir>', 'where the sample, split and runs go', '.covseg/demo')
    .action(async (options: { workspace: string }) => {
      const workspace = resolve(options.workspace);
      const sampleDir = join(workspace, 'sample');
      io.out('1/3 writing the built-in synthetic CT sample ...');
      const sample = await writeSyntheticSample(sampleDir, { count: 120, size: 256, seed: 1 });
      io.out(`    ${sample.count} slices from ${sample.patients} synthetic patients in ${sampleDir}`);
      io.out('2/3 checking it ...');
      const report = await checkDataset(sampleDir);
      io.out(formatReport(report).replace(/^/gm, '    '));
      if (report.errors > 0) {
        io.exitCode = 1;
        return;
      }
      io.out('3/3 splitting it by synthetic patient ...');
      const dataset = await openDataset(sampleDir);
      const scan = await scanDataset(dataset);
      const split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, { val: 0.25, test: 0.15, seed: 1 });
      const splitFile = join(workspace, 'split.json');
      await writeSplit(splitFile, split);
      io.out(formatSplit(split, splitFile).replace(/^/gm, '    '));
    });
}
