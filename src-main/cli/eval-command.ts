import type { Command } from 'commander';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { ENGINE_CHOICES, parseEngineChoice } from '../engine/onnx/segmentation-engine';
import { evaluateRun, predictImages, type EvalSplit } from '../engine/training/evaluate-run';
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
    .option('--engine <name>', `inference engine: ${ENGINE_CHOICES.join(', ')} (auto: ONNX Runtime when installed, else tfjs)`, 'auto')
    .option('--json', 'print metrics (and per-slice metrics) as JSON')
    .action(async (flags: { run: string; data?: string; split: string; checkpoint: string; backend?: BackendChoice; engine: string; json?: boolean }) => {
      if (!['test', 'val', 'train', 'all'].includes(flags.split)) throw new CovsegError('bad-parameter', `--split must be test, val, train or all, got "${flags.split}"`);
      if (!['best', 'last'].includes(flags.checkpoint)) throw new CovsegError('bad-parameter', `--checkpoint must be best or last, got "${flags.checkpoint}"`);
      const result = await evaluateRun(flags.run, {
        split: flags.split as EvalSplit,
        checkpoint: flags.checkpoint as 'best' | 'last',
        engine: parseEngineChoice(flags.engine),
        ...(flags.data ? { data: flags.data } : {}),
        ...(flags.backend ? { backend: flags.backend } : {}),
      });
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      else io.out(`${flags.split} split, ${result.ids} slice(s), ${flags.checkpoint} checkpoint, engine ${result.engine}\n${formatMetricsTable(result.metrics, result.loss)}`);
    });

  program
    .command('predict')
    .description("predict lesion masks (0/255 PNG, each slice's own size) with a run's best checkpoint")
    .requiredOption('--run <rundir>', 'run folder')
    .requiredOption('--input <png|dir>', 'a PNG slice, a folder of them, or a dataset folder (its frames/)')
    .requiredOption('--out <dir>', 'folder for the predicted masks')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--engine <name>', `inference engine: ${ENGINE_CHOICES.join(', ')} (auto: ONNX Runtime when installed, else tfjs)`, 'auto')
    .action(async (flags: { run: string; input: string; out: string; backend?: BackendChoice; engine: string }) => {
      let engine = '';
      const files = await predictImages(flags.run, flags.input, flags.out, {
        engine: parseEngineChoice(flags.engine),
        onEngine: (description) => (engine = description),
        ...(flags.backend ? { backend: flags.backend } : {}),
      });
      io.out(`wrote ${files.length} mask(s) to ${flags.out} (engine ${engine})`);
    });
}
