import type { Command } from 'commander';
import { writeSyntheticSample } from '../engine/datasets/synthetic/write-sample';
import { guardEmptyFolder } from '../engine/files/output-guard';
import { type CliContext, percent } from './output';
import { parseInteger } from './parse-options';

export function registerSampleCommand(program: Command, io: CliContext): void {
  program
    .command('sample')
    .description('write the built-in synthetic chest CT sample (frames/, masks/, labels/ PNGs)')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--count <n>', 'number of slices', parseInteger, 120)
    .option('--size <px>', 'image width and height', parseInteger, 256)
    .option('--seed <n>', 'random seed (same seed, same files)', parseInteger, 1)
    .option('--force', 'write into a folder that is not empty (files with the same names are overwritten)')
    .option('--json', 'print the summary as JSON')
    .action(async (options: { out: string; count: number; size: number; seed: number; force?: boolean; json?: boolean }) => {
      await guardEmptyFolder(options.out, { flag: '--out', force: Boolean(options.force) }, 'sample');
      const summary = await writeSyntheticSample(options.out, options);
      if (options.json) {
        io.out(JSON.stringify(summary, null, 2));
        return;
      }
      io.out(
        [
          `wrote ${summary.count} slices of ${summary.size}x${summary.size} px from ${summary.patients} synthetic patients to ${summary.out}`,
          `  lesion-free slices: ${summary.lesionFreeSlices} (${percent(summary.lesionFreeSlices / summary.count)})`,
          `  slices with ground-glass: ${summary.groundGlassSlices}, with consolidation: ${summary.consolidationSlices}`,
          `  mean lesion share of lung: ${percent(summary.meanLesionShareOfLung)}`,
        ].join('\n'),
      );
    });
}
