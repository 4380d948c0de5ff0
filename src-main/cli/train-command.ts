import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKEND_CHOICES, describeBackend, type BackendChoice } from '../engine/backend/select-backend';
import { readPointer } from '../engine/runs/checkpoints';
import { RUN_FILES } from '../engine/runs/run-files';
import { isStale, readLockHolder } from '../engine/runs/run-lock';
import { loadRecipe } from '../engine/transforms/recipes';
import { CLASS_TASKS, type ClassTask, type EvalResolution } from '../engine/training/class-task';
import { resolveTrainConfig, type LrSchedule } from '../engine/training/train-config';
import { train, type RunSummary } from '../engine/training/trainer';
import type { CliContext } from './output';
import { parseFraction, parseInteger, parsePositiveNumber } from './parse-options';
import { appendProgressLine, progressFileHook, progressMessagesHook } from './progress-file-hook';
import { progressHook } from './progress-hook';
import { formatClassTable, formatMetricsTable } from './results-table';

interface TrainFlags {
  data: string;
  out: string;
  model: string;
  loss?: string;
  epochs: number;
  size: number;
  batch: number;
  lr: number;
  lrSchedule: LrSchedule;
  seed: number;
  split?: string;
  val: number;
  test: number;
  depth?: number;
  baseFilters?: number;
  dropout?: number;
  batchNorm: boolean;
  patience?: number;
  backend: BackendChoice;
  workers: number;
  resume?: boolean;
  savePredictions?: boolean;
  json?: boolean;
  progressJson?: boolean;
  progressFile?: string;
  recipe?: string;
  recipeMode?: 'online' | 'offline';
  copies?: number;
  ganDir?: string;
  ganRatio?: number;
  classes: ClassTask;
  evalResolution: EvalResolution;
  variant?: string;
  pretrained?: string;
  initFrom?: string;
}

/** True for a run folder with a configuration but no checkpoint: `--resume` trains it from epoch 1. */
async function resumesFromScratch(runDir: string): Promise<boolean> {
  const holder = await readLockHolder(runDir);
  // A run another process holds is refused by train() itself; say nothing about how it would resume.
  if (holder && !isStale(holder)) return false;
  return existsSync(join(runDir, RUN_FILES.config)) && !(await readPointer(runDir, 'last').catch(() => true));
}

/** Prints what a finished run achieved, and where it is. */
export function formatRunResult(summary: RunSummary, runDir: string): string {
  const lines = [
    `run ${summary.status}: ${summary.epochs} epoch(s), best validation Dice${summary.test?.classes ? ' (mean over classes)' : ''} ${summary.bestValDice?.toFixed(4) ?? '-'} at epoch ${summary.bestEpoch}`,
    `backend ${describeBackend(summary.backend)}; ${summary.timings.msPerStep.toFixed(0)} ms/step, ${summary.timings.imagesPerSecond.toFixed(1)} images/s, ${summary.timings.totalSeconds.toFixed(0)} s in all`,
  ];
  if (summary.test) {
    const grid = summary.test.resolution ? `, scored at ${summary.test.resolution} resolution` : '';
    lines.push('', `test split (best checkpoint${grid})${summary.test.classes ? ', any lesion' : ''}:`, formatMetricsTable(summary.test.metrics, summary.test.loss));
    if (summary.test.classes) lines.push('', 'per class:', formatClassTable(summary.test.classes));
  }
  lines.push('', `run folder: ${runDir}`);
  return lines.join('\n');
}

export function registerTrainCommand(program: Command, io: CliContext): void {
  program
    .command('train')
    .description('train a segmentation model; writes a run folder (config, metrics.jsonl, checkpoints, summary)')
    .requiredOption('--data <dir>', 'dataset folder')
    .requiredOption('--out <rundir>', 'run folder to create (or to continue with --resume)')
    .option('--model <name>', 'model: unet or segformer', 'unet')
    .option('--loss <name>', 'lesion: bce (default), dice, bce+dice, focal, tversky; ggo-consolidation: ce+dice (default), ce, dice, focal, tversky')
    .option('--classes <task>', `what to segment: ${CLASS_TASKS.join(' or ')} (background, ground-glass, consolidation; needs labels/ class maps)`, 'lesion')
    .option('--eval-resolution <grid>', "test metrics at each slice's own size (original) or at --size (model)", 'original')
    .option('--epochs <n>', 'epochs', parseInteger, 20)
    .option('--size <px>', 'slices are resized to size x size', parseInteger, 128)
    .option('--batch <n>', 'batch size', parseInteger, 4)
    .option('--lr <rate>', 'Adam learning rate', parsePositiveNumber, 1e-3)
    .option('--lr-schedule <kind>', 'constant, cosine, step or poly', 'constant')
    .option('--seed <n>', 'seed of weights, batch order and the generated split', parseInteger, 1)
    .option('--split <file>', 'split file from `covseg split` (default: a grouped split made now)')
    .option('--val <fraction>', 'validation share when no --split is given', parseFraction, 0.25)
    .option('--test <fraction>', 'test share when no --split is given', parseFraction, 0.15)
    .option('--depth <n>', 'U-Net depth', parseInteger)
    .option('--base-filters <n>', 'U-Net filters at the first level', parseInteger)
    .option('--dropout <rate>', 'dropout in the bottleneck', parseFraction)
    .option('--no-batch-norm', 'U-Net without batch normalisation')
    .option('--variant <b0|b1>', 'SegFormer variant (MiT-B0 3.7M or MiT-B1 13.7M parameters)')
    .option('--pretrained <file>', 'SegFormer: start the encoder from a local MiT model.safetensors (nvidia/mit-b0 or mit-b1)')
    .option('--init-from <rundir>', "fine-tune: start from the best checkpoint of this run (same --model, --classes, --size and U-Net settings); recorded as the run's parent")
    .option('--patience <n>', 'early stopping: epochs without a better validation Dice', parseInteger)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, process.env.COVSEG_BACKEND ?? 'auto')
    .option('--recipe <name|file>', 'augmentation: a preset (origin, fliprot+elastic, fliprot+mixup, mixup+jpeg, fliprot+mixup+jpeg, origin+gan...) or a recipe JSON file')
    .option('--recipe-mode <mode>', 'online (random per batch) or offline (originals + K augmented copies made once)')
    .option('--copies <k>', 'offline mode: augmented copies per slice', parseInteger)
    .option('--gan-dir <dir>', 'generated pairs from `covseg gan generate` for origin+gan recipes (accepted pairs, or all if none was curated)')
    .option('--gan-ratio <r>', 'generated : real pairs, e.g. 1 (default: every selected pair)', parsePositiveNumber)
    .option('--workers <n>', 'data-parallel threads: 0 = auto (2 on wasm/cpu with 2+ cores), 1 or 2', parseInteger, 0)
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--save-predictions', 'write predicted test masks to RUNDIR/predictions')
    .option('--json', 'print the summary as JSON')
    .option('--progress-json', 'print progress as JSON lines on stdout (every batch; the same messages as --progress-file)')
    .option('--progress-file <file>', 'append progress as JSON lines to this file (the app and server follow it)')
    .action(async (flags: TrainFlags, command: Command) => {
      const modelOptions: Record<string, unknown> = {};
      if (flags.depth !== undefined) modelOptions.depth = flags.depth;
      if (flags.baseFilters !== undefined) modelOptions.baseFilters = flags.baseFilters;
      if (flags.dropout !== undefined) modelOptions.dropout = flags.dropout;
      if (!flags.batchNorm) modelOptions.batchNorm = false;
      if (flags.variant !== undefined) modelOptions.variant = flags.variant;
      if (flags.pretrained !== undefined) modelOptions.pretrained = resolve(flags.pretrained);
      const recipe = flags.recipe
        ? await loadRecipe(flags.recipe, {
            ...(flags.ganDir ? { ganDir: flags.ganDir } : {}),
            ...(flags.ganRatio !== undefined ? { ganRatio: flags.ganRatio } : {}),
            ...(flags.recipeMode ? { mode: flags.recipeMode } : {}),
            ...(flags.copies !== undefined ? { copies: flags.copies } : {}),
          })
        : undefined;
      const config = resolveTrainConfig({
        ...(recipe ? { recipe } : {}),
        data: flags.data,
        ...(flags.split ? { splitFile: flags.split } : {}),
        split: { val: flags.val, test: flags.test, seed: flags.seed },
        model: { name: flags.model, options: modelOptions },
        ...(flags.loss ? { loss: flags.loss } : {}),
        classes: flags.classes,
        evalResolution: flags.evalResolution,
        epochs: flags.epochs,
        size: flags.size,
        batch: flags.batch,
        lr: flags.lr,
        lrSchedule: flags.lrSchedule,
        seed: flags.seed,
        patience: flags.patience ?? null,
        backend: flags.backend,
        workers: flags.workers,
        savePredictions: Boolean(flags.savePredictions),
        ...(flags.initFrom ? { initFrom: resolve(flags.initFrom) } : {}),
      });
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(130);
        io.err('\ncancelling after the current batch (Ctrl-C again to quit at once) ...');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', onInterrupt);
      if (flags.resume && (await resumesFromScratch(flags.out))) io.err(`no checkpoint in ${flags.out} yet: starting the run again from epoch 1 with its stored configuration`);
      try {
        const summary = await train({
          runDir: flags.out,
          config,
          resume: Boolean(flags.resume),
          // Only an --epochs the user typed extends a resumed run (process.argv is not this command line in-process).
          ...(flags.resume && command.getOptionValueSource('epochs') === 'cli' ? { epochs: flags.epochs } : {}),
          hooks: [progressHook(io), ...(flags.progressJson ? [progressMessagesHook((message) => io.out(JSON.stringify(message)), 0)] : []), ...(flags.progressFile ? [progressFileHook(flags.progressFile)] : [])],
          signal: controller.signal,
        });
        if (flags.progressFile) await appendProgressLine(flags.progressFile, { type: 'end', status: summary.status, epochs: summary.epochs });
        if (flags.progressJson) io.out(JSON.stringify({ type: 'end', status: summary.status, epochs: summary.epochs }));
        else if (flags.json) io.out(JSON.stringify(summary, null, 2));
        else io.out(formatRunResult(summary, flags.out));
        if (summary.status === 'cancelled') {
          const from = summary.epochs > 0 ? `continues after epoch ${summary.epochs}` : 'starts again from epoch 1 (no epoch had finished)';
          io.err(`cancelled; this ${from}: covseg train --data ${flags.data} --out ${flags.out} --resume`);
        }
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });
}

