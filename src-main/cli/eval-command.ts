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
import { predictVolume, DEFAULT_VOLUME_BATCH } from '../engine/studies/predict-volume';
import { BURDEN_CSV_HEADER } from '../engine/studies/lesion-burden';
import { parseHuWindow } from '../engine/datasets/hu-window';
import { appendProgressLine } from './progress-file-hook';
import { sliceProgress } from './progress-hook';
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
    .description("predict lesion masks (0/255 PNG) or, for three-class runs, class maps (PNG 0/1/2), each at the slice's own size, with a run's best checkpoint; with --out FILE.nii.gz, a whole study (NIfTI or DICOM series) as a label volume plus its lesion burden")
    .requiredOption('--run <rundir>', 'run folder')
    .requiredOption('--input <png|dir|study>', 'a PNG slice, a folder of them, or a dataset folder (its frames/); with a .nii.gz --out: a NIfTI volume or a folder with one DICOM series')
    .requiredOption('--out <dir|file.nii.gz>', 'folder for the predicted masks, or a .nii.gz/.nii file for the label volume of a study')
    .option('--probabilities', 'also write per-class probability maps (x255) to OUT/probabilities/')
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--force', 'overwrite masks that already exist in --out')
    .option('--engine <name>', `inference engine: ${ENGINE_CHOICES.join(', ')} (auto: ONNX Runtime when installed, else tfjs)`, 'auto')
    .option('--batch <n>', `volumes: slices per engine call (default ${DEFAULT_VOLUME_BATCH})`)
    .option('--window <W/L>', 'volumes: HU window the model sees (default W1500/L-600, as in training)')
    .option('--json', 'volumes: print the result and lesion burden as JSON')
    .option('--progress-file <file>', 'volumes: append progress as JSON lines to this file (the app follows it)')
    .action(async (flags: PredictFlags) => {
      if (/\.nii(\.gz)?$/i.test(flags.out)) {
        await predictStudy(flags, io);
        return;
      }
      if (/\.nii(\.gz)?$/i.test(flags.input)) {
        throw new CovsegError('bad-parameter', `--input ${flags.input} is a NIfTI volume: its prediction is a label volume, so --out must name a .nii.gz file`, {
          fix: `e.g. --out ${basename(flags.input).replace(/\.nii(\.gz)?$/i, '')}-labels.nii.gz`,
        });
      }
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

interface PredictFlags {
  run: string;
  input: string;
  out: string;
  backend?: BackendChoice;
  engine: string;
  force?: boolean;
  probabilities?: boolean;
  batch?: string;
  window?: string;
  json?: boolean;
  progressFile?: string;
}

/** `covseg predict --out FILE.nii.gz`: a whole study to a label volume and its lesion burden; Ctrl-C cancels between batches. */
async function predictStudy(flags: PredictFlags, io: CliContext): Promise<void> {
  const batch = flags.batch === undefined ? DEFAULT_VOLUME_BATCH : Number(flags.batch);
  let window;
  try {
    window = flags.window ? parseHuWindow(flags.window) : undefined;
  } catch (error) {
    throw new CovsegError('bad-parameter', `--window: ${(error as Error).message}`);
  }
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err('\ncancelling after the current batch (Ctrl-C again to quit at once) ...');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  const progress = sliceProgress(io, 'predicting');
  const progressFile = flags.progressFile;
  let lastLine = Promise.resolve();
  try {
    const result = await predictVolume(flags.run, flags.input, flags.out, {
      engine: parseEngineChoice(flags.engine),
      batch,
      force: Boolean(flags.force),
      signal: controller.signal,
      onProgress: (p) => {
        progress.onProgress(p);
        if (progressFile) lastLine = lastLine.then(() => appendProgressLine(progressFile, { type: 'progress', ...p }));
      },
      ...(window ? { window } : {}),
      ...(flags.backend ? { backend: flags.backend } : {}),
    });
    progress.done();
    if (progressFile) await lastLine.then(() => appendProgressLine(progressFile, { type: 'end', status: 'completed', report: result.reportJson }));
    for (const problem of result.problems) io.err(`warning: ${problem.message}`);
    if (flags.json) {
      io.out(JSON.stringify(result, null, 2));
      return;
    }
    const { burden } = result;
    const lines = [
      `wrote ${result.output} (${result.shape.join(' x ')} voxels, ${result.classes === 'lesion' ? 'labels 0/1' : 'labels 0/1/2: ground-glass, consolidation'}, engine ${result.engine}, ${result.seconds.toFixed(1)} s)`,
      `lesion burden (voxel ${(burden.voxelVolumeMl * 1000).toFixed(3)} mm^3):`,
      ...burden.classes.map((c) => `  ${c.name.padEnd(14)} ${c.volumeMl.toFixed(2).padStart(10)} mL  (${c.voxels} voxels)`),
      ...(burden.classes.length > 1 ? [`  ${'all lesion'.padEnd(14)} ${burden.lesionVolumeMl.toFixed(2).padStart(10)} mL  (${burden.lesionVoxels} voxels)`] : []),
      `  slices involved ${burden.slicesInvolved}/${burden.slices} (${(100 * burden.fractionSlicesInvolved).toFixed(1)}%)`,
      burden.lungInvolvedPercent === null
        ? `  lung involved   - (${burden.lungInvolvedNote})`
        : `  lung involved   ${burden.lungInvolvedPercent.toFixed(1)}% of ${burden.lungVolumeMl!.toFixed(0)} mL (${burden.lungInvolvedNote})`,
      ...burden.lungs.map(
        (l) =>
          `    ${`${l.side} lung`.padEnd(12)} ${l.involvedPercent === null ? '-' : `${l.involvedPercent.toFixed(1)}%`} of ${l.volumeMl.toFixed(0)} mL` +
          (l.classes.length > 1 ? ` (${l.classes.map((c) => `${c.name} ${c.percent === null ? '-' : `${c.percent.toFixed(1)}%`}`).join(', ')})` : ''),
      ),
      `report: ${result.reportJson}, ${result.reportCsv}`,
      BURDEN_CSV_HEADER,
      result.csvLine,
    ];
    io.out(lines.join('\n'));
  } catch (error) {
    if (progressFile) {
      const cancelled = error instanceof CovsegError && error.code === 'cancelled';
      await lastLine.then(() => appendProgressLine(progressFile, { type: 'end', status: cancelled ? 'cancelled' : 'failed', message: error instanceof CovsegError ? error.describe() : String(error) }));
    }
    throw error;
  } finally {
    progress.done();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
