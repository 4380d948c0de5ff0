import type { Command } from 'commander';
import { basename, extname } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { guardOutputFolder } from '../engine/files/output-guard';
import { readRun } from '../engine/runs/read-run';
import { evaluateRun, listInputs, predictImages, type EvalSplit } from '../engine/training/evaluate-run';
import type { CliContext } from './output';
import { formatMetricsTable } from './results-table';

export function registerEvalCommands(program: Command, io: CliContext): void {
  program
    .command('eval')
    .description("evaluate a run's best checkpoint on a split of its data (or all slices of another dataset)")
    .requiredOption('--run <rundir>', 'run folder')
    .option('--data <dir>', "dataset folder (default: the run's own)")
    .option('--split <name>', 'test, val, train or all', 'test')
    .option('--checkpoint <which>', 'best or last', 'best')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--json', 'print metrics (and per-slice metrics) as JSON')
    .action(async (flags: { run: string; data?: string; split: string; checkpoint: string; backend?: BackendChoice; json?: boolean }) => {
      if (!['test', 'val', 'train', 'all'].includes(flags.split)) throw new CovsegError('bad-parameter', `--split must be test, val, train or all, got "${flags.split}"`);
      if (!['best', 'last'].includes(flags.checkpoint)) throw new CovsegError('bad-parameter', `--checkpoint must be best or last, got "${flags.checkpoint}"`);
      const result = await evaluateRun(flags.run, {
        split: flags.split as EvalSplit,
        checkpoint: flags.checkpoint as 'best' | 'last',
        ...(flags.data ? { data: flags.data } : {}),
        ...(flags.backend ? { backend: flags.backend } : {}),
      });
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      else io.out(`${flags.split} split, ${result.ids} slice(s), ${flags.checkpoint} checkpoint\n${formatMetricsTable(result.metrics, result.loss)}`);
    });

  program
    .command('predict')
    .description("predict lesion masks (0/255 PNG, each slice's own size) with a run's best checkpoint")
    .requiredOption('--run <rundir>', 'run folder')
    .requiredOption('--input <png|dir>', 'a PNG slice, a folder of them, or a dataset folder (its frames/)')
    .requiredOption('--out <dir>', 'folder for the predicted masks')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--force', 'overwrite masks that already exist in --out')
    .action(async (flags: { run: string; input: string; out: string; backend?: BackendChoice; force?: boolean }) => {
      const run = await readRun(flags.run);
      const names = (await listInputs(flags.input)).map((file) => `${basename(file, extname(file))}.png`);
      // The run's own dataset is protected too: `--out DATA/masks` would replace its ground truth.
      await guardOutputFolder(flags.out, names, { flag: '--out', inputs: [flags.input, run.record.config.data, run.dir], force: Boolean(flags.force) }, 'predictions');
      const files = await predictImages(flags.run, flags.input, flags.out, flags.backend ? { backend: flags.backend } : {});
      io.out(`wrote ${files.length} mask(s) to ${flags.out}`);
    });
}
