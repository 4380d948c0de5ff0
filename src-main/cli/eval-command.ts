import type { Command } from 'commander';
import { basename, extname } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { ENGINE_CHOICES, parseEngineChoice } from '../engine/onnx/segmentation-engine';
import { guardOutputFolder } from '../engine/files/output-guard';
import { readRun } from '../engine/runs/read-run';
import { EVAL_RESOLUTIONS, type EvalResolution } from '../engine/training/class-task';
import { evaluateRun, listInputs, predictImages, type EvalSplit } from '../engine/training/evaluate-run';
import type { CliContext } from './output';
import { formatClassTable, formatMetricsTable } from './results-table';

export function registerEvalCommands(program: Command, io: CliContext): void {
  program
    .command('eval')
    .description("evaluate a run's best checkpoint on a split of its data (or all slices of another dataset)")
    .requiredOption('--run <rundir>', 'run folder')
    .option('--data <dir>', "dataset folder (default: the run's own)")
    .option('--split <name>', 'test, val, train or all', 'test')
    .option('--checkpoint <which>', 'best or last', 'best')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--resolution <grid>', "score at each slice's own size (original) or on the model's size x size grid (model)", 'original')
    .option('--engine <name>', `inference engine: ${ENGINE_CHOICES.join(', ')} (auto: ONNX Runtime when installed, else tfjs)`, 'auto')
    .option('--json', 'print metrics (and per-slice metrics) as JSON')
    .action(async (flags: { run: string; data?: string; split: string; checkpoint: string; backend?: BackendChoice; engine: string; json?: boolean; resolution: string }) => {
      if (!(EVAL_RESOLUTIONS as readonly string[]).includes(flags.resolution)) throw new CovsegError('bad-parameter', `--resolution must be ${EVAL_RESOLUTIONS.join(' or ')}, got "${flags.resolution}"`);
      if (!['test', 'val', 'train', 'all'].includes(flags.split)) throw new CovsegError('bad-parameter', `--split must be test, val, train or all, got "${flags.split}"`);
      if (!['best', 'last'].includes(flags.checkpoint)) throw new CovsegError('bad-parameter', `--checkpoint must be best or last, got "${flags.checkpoint}"`);
      const result = await evaluateRun(flags.run, {
        split: flags.split as EvalSplit,
        checkpoint: flags.checkpoint as 'best' | 'last',
        resolution: flags.resolution as EvalResolution,
        engine: parseEngineChoice(flags.engine),
        ...(flags.data ? { data: flags.data } : {}),
        ...(flags.backend ? { backend: flags.backend } : {}),
      });
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      else {
        const lesionTitle = result.classes ? 'any lesion (from the class prediction):\n' : '';
        io.out(`${flags.split} split, ${result.ids} slice(s), ${flags.checkpoint} checkpoint, scored at ${result.resolution} resolution, engine ${result.engine}\n${lesionTitle}${formatMetricsTable(result.metrics, result.loss)}`);
        if (result.classes) io.out(`\nper class:\n${formatClassTable(result.classes)}`);
      }
    });

  program
    .command('predict')
    .description("predict lesion masks (0/255 PNG) or, for three-class runs, class maps (PNG 0/1/2), each at the slice's own size, with a run's best checkpoint")
    .requiredOption('--run <rundir>', 'run folder')
    .requiredOption('--input <png|dir>', 'a PNG slice, a folder of them, or a dataset folder (its frames/)')
    .requiredOption('--out <dir>', 'folder for the predicted masks')
    .option('--probabilities', 'also write per-class probability maps (x255) to OUT/probabilities/')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--force', 'overwrite masks that already exist in --out')
    .option('--engine <name>', `inference engine: ${ENGINE_CHOICES.join(', ')} (auto: ONNX Runtime when installed, else tfjs)`, 'auto')
    .action(async (flags: { run: string; input: string; out: string; backend?: BackendChoice; engine: string; force?: boolean; probabilities?: boolean }) => {
      const run = await readRun(flags.run);
      const names = (await listInputs(flags.input)).map((file) => `${basename(file, extname(file))}.png`);
      // The run's own dataset is protected too: `--out DATA/masks` would replace its ground truth.
      await guardOutputFolder(flags.out, names, { flag: '--out', inputs: [flags.input, run.record.config.data, run.dir], force: Boolean(flags.force) }, 'predictions');
      let engine = '';
      const files = await predictImages(flags.run, flags.input, flags.out, {
        engine: parseEngineChoice(flags.engine),
        onEngine: (description) => (engine = description),
        probabilities: Boolean(flags.probabilities),
        ...(flags.backend ? { backend: flags.backend } : {}),
      });
      const maps = files.filter((f) => f.includes('probabilities')).length;
      io.out(`wrote ${files.length - maps} mask(s)${maps > 0 ? ` and ${maps} probability map(s)` : ''} to ${flags.out} (engine ${engine})`);
    });
}
