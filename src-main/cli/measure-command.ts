import type { Command } from 'commander';
import { readDatasetOrientation } from '../engine/datasets/dataset-orientation';
import { openDataset } from '../engine/datasets/open-dataset';
import { defaultWorkspace } from '../engine/files/workspace';
import { writeFileAtomic } from '../engine/files/atomic-write';
import { guardOutputFile, realPathOf, refuseInsideInputs } from '../engine/files/output-guard';
import { LungCorrections } from '../engine/annotations/lung-corrections';
import { measureDataset, measurementsCsv, type PredictMask } from '../engine/measure/measure-dataset';
import { selectBackend } from '../engine/backend/select-backend';
import { inferenceCopy } from '../engine/models/registry';
import { loadCheckpoint } from '../engine/runs/checkpoints';
import { readRun } from '../engine/runs/read-run';
import { taskOf } from '../engine/training/class-task';
import { predictSliceMask } from '../engine/training/predict-mask';
import type { CliContext } from './output';

/** The best checkpoint of a run as a mask predictor at each slice's own size. */
async function runPredictor(runDir: string): Promise<{ predict: PredictMask; release: () => void }> {
  const run = await readRun(runDir);
  await selectBackend();
  const { model: trained } = await loadCheckpoint(run.dir, 'best');
  const { model: fast, release } = inferenceCopy(trained, run.record.config.model);
  const classes = taskOf(run.record.config) !== 'lesion';
  return {
    predict: async (slice) => ({ mask: await predictSliceMask(fast, { width: slice.width, height: slice.height, data: slice.image }, run.record.config.size, run.record.config.threshold), classes }),
    release: () => {
      release();
      trained.dispose();
    },
  };
}

export function registerMeasureCommand(program: Command, io: CliContext): void {
  program
    .command('measure')
    .description('lesion area/volume, ground-glass vs consolidation and % of lung involved, per slice and per study, as CSV')
    .argument('<dir>', 'dataset folder')
    .option('--run <rundir>', 'also measure this run\'s predictions (rows with source "prediction")')
    .requiredOption('--out <file>', 'CSV file to write')
    .option('--force', 'overwrite an existing file with other content')
    .action(async (dir: string, options: { run?: string; out: string; force?: boolean }) => {
      const rule = { flag: '--out', inputs: options.run ? [dir, options.run] : [dir], force: Boolean(options.force) };
      await refuseInsideInputs(options.out, rule, 'measurements.csv');
      const dataset = await openDataset(dir);
      // PNG slices name the patient's right and left lung by the orientation the app shows them in.
      const orientation = await readDatasetOrientation(defaultWorkspace(), dir);
      // Lung corrections made in the app (same workspace) replace the computed lung of their slices;
      // the app keys them by the dataset's real path.
      const corrections = await LungCorrections.read(defaultWorkspace(), await realPathOf(dataset.root));
      const predictor = options.run ? await runPredictor(options.run) : undefined;
      try {
        const rows = await measureDataset(dataset, {
          orientation,
          correctedLung: (sliceId) => corrections.corrected(sliceId),
          ...(predictor ? { predict: predictor.predict } : {}),
          onProgress: (done, total) => {
            if (io.interactive && (done % 20 === 0 || done === total)) process.stderr.write(`\rmeasuring ${done}/${total}`);
          },
        });
        if (io.interactive) process.stderr.write('\r\x1b[K');
        const csv = measurementsCsv(rows);
        await guardOutputFile(options.out, csv, rule, 'measurements.csv');
        await writeFileAtomic(options.out, csv);
        const studies = rows.filter((r) => r.slice === 'ALL' && r.source === 'truth').length;
        io.out(`${rows.length - rows.filter((r) => r.slice === 'ALL').length} slice rows and ${rows.filter((r) => r.slice === 'ALL').length} study rows (${studies} studies) written to ${options.out}`);
      } finally {
        predictor?.release();
      }
    });
}
