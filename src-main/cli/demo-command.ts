import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeBackend, selectBackend } from '../engine/backend/select-backend';
import { inspectDataset } from '../engine/datasets/check-dataset';
import { splitDataset, writeSplit } from '../engine/datasets/split-dataset';
import { writeJsonAtomic } from '../engine/files/atomic-write';
import { guardEmptyFolder, refuseInsideInputs } from '../engine/files/output-guard';
import { refuseLockedFolder } from '../engine/runs/run-lock';
import { writeSyntheticSample } from '../engine/datasets/synthetic/write-sample';
import { resolveTrainConfig } from '../engine/training/train-config';
import { train } from '../engine/training/trainer';
import { resolveGanConfig } from '../engine/gan/gan-config';
import { generatePairs } from '../engine/gan/generate-pairs';
import { trainGan } from '../engine/gan/train-gan';
import { loadRecipe } from '../engine/transforms/recipes';
import type { RunSummary } from '../engine/training/trainer';
import { formatReport } from './dataset-command';
import { ganProgressHook } from './gan-command';
import type { CliContext } from './output';
import { parseInteger } from './parse-options';
import { progressHook } from './progress-hook';
import { formatSplit } from './split-command';
import { formatRunResult } from './train-command';
import { DEMO_EXPERIMENT_DIR, runDemoExperiment } from './demo-experiment';

/** Marks a folder as the demo's own workspace. */
const DEMO_MARKER = 'covseg-demo.json';
const DEMO_ENTRIES = new Set([DEMO_MARKER, 'sample', 'split.json', 'runs', 'gan', 'gan-pairs', DEMO_EXPERIMENT_DIR]);

/**
 * The main job on the built-in sample, start to finish: make it, check it, split it by patient,
 * train a U-Net, evaluate it on the held-out test patients and print the results; then train a small
 * pix2pix on the training patients, generate as many pairs as there are training slices, train the
 * same U-Net with origin+gan and print both.
 */
export function registerDemoCommand(program: Command, io: CliContext): void {
  program
    .command('demo')
    .description('run the main job on the built-in synthetic sample (no download): sample, check, split, train, test')
    .option('--workspace <dir>', 'where the sample, split and run go (replaced on each demo)', '.covseg/demo')
    .option('--epochs <n>', 'training epochs', parseInteger, 15)
    .option('--size <px>', 'training image size', parseInteger, 128)
    .option('--gan-epochs <n>', 'pix2pix epochs (the GAN steps; --no-gan skips them)', parseInteger, 5)
    .option('--gan-size <px>', 'pix2pix slice size', parseInteger, 64)
    .option('--no-gan', 'skip the GAN steps (pix2pix, generation, origin+gan)')
    .option('--no-experiment', 'skip the tiny experiment grid at the end')
    .option('--force', 'use a --workspace that is not empty and was not made by `covseg demo`')
    .action(async (options: { workspace: string; epochs: number; size: number; gan: boolean; ganEpochs: number; ganSize: number; force?: boolean; experiment: boolean }) => {
      const workspace = resolve(options.workspace);
      const sampleDir = join(workspace, 'sample');
      const runDir = join(workspace, 'runs', 'unet-bce');
      // The demo replaces what it made before; a marker file says which folder that is, so it never
      // clears a folder of someone else's files.
      const marker = join(workspace, DEMO_MARKER);
      const rule = { flag: '--workspace', force: Boolean(options.force) };
      const entries = await readdir(workspace).catch(() => [] as string[]);
      // Workspaces of demos from before the marker hold only what a demo writes.
      if (existsSync(marker) || (entries.length > 0 && entries.every((name) => DEMO_ENTRIES.has(name)))) await refuseInsideInputs(workspace, rule, 'demo');
      else await guardEmptyFolder(workspace, rule, 'demo');
      await refuseLockedFolder(runDir);
      const ganDir = join(workspace, 'gan');
      const pairsDir = join(workspace, 'gan-pairs');
      const ganRunDir = join(workspace, 'runs', 'unet-bce-gan');
      for (const dir of [ganDir, ganRunDir]) await refuseLockedFolder(dir);
      await writeJsonAtomic(marker, { madeBy: 'covseg demo', note: 'sample/, split.json, gan/, gan-pairs/ and runs/ are replaced by each `covseg demo` here' });
      for (const dir of [runDir, ganDir, pairsDir, ganRunDir]) await rm(dir, { recursive: true, force: true });
      const steps = 4 + (options.gan ? 3 : 0) + (options.experiment ? 1 : 0);
      const backend = await selectBackend();
      io.out(`compute backend: ${describeBackend(backend)}${backend.skipped.length ? ` (skipped: ${backend.skipped.join('; ')})` : ''}`);
      io.out(`1/${steps} writing the built-in synthetic CT sample ...`);
      const sample = await writeSyntheticSample(sampleDir, { count: 120, size: 256, seed: 1 });
      io.out(`    ${sample.count} slices from ${sample.patients} synthetic patients in ${sampleDir}`);
      io.out(`2/${steps} checking it ...`);
      const { dataset, scan, report } = await inspectDataset(sampleDir);
      io.out(formatReport(report).replace(/^/gm, '    '));
      if (report.errors > 0) {
        io.exitCode = 1;
        return;
      }
      io.out(`3/${steps} splitting it by synthetic patient ...`);
      const split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, { val: 0.25, test: 0.15, seed: 1 });
      const splitFile = join(workspace, 'split.json');
      await writeSplit(splitFile, split);
      io.out(formatSplit(split, splitFile).replace(/^/gm, '    '));
      io.out(`4/${steps} training a U-Net (base 16, depth 4) with BCE for ${options.epochs} epochs at ${options.size} px, then testing it ...`);
      const config = resolveTrainConfig({ data: sampleDir, splitFile, epochs: options.epochs, size: options.size, batch: 4, lr: 1e-3, loss: 'bce', seed: 1, savePredictions: true });
      const summary = await train({ runDir, config, hooks: [progressHook(io)] });
      io.out(formatRunResult(summary, runDir));
      if (options.gan) {
        io.out(`5/${steps} training a small pix2pix (${options.ganSize} px, 8 filters, ${options.ganEpochs} epochs) on the training patients only ...`);
        // One worker: at 64 px with 8 filters a step is mostly per-kernel overhead, which a second
        // replica does not halve (two workers measured slower here; README, GAN synthesis, "Two workers").
        const ganConfig = resolveGanConfig({ kind: 'pix2pix', data: sampleDir, splitFile, preset: 'cpu', size: options.ganSize, epochs: options.ganEpochs, batch: 4, generatorFilters: 8, discriminatorFilters: 8, seed: 1, workers: 1 });
        await trainGan({ ganDir, config: ganConfig, hooks: [ganProgressHook(io)] });
        io.out(`6/${steps} generating ${split.slices.train.length} pairs (one per training slice) from real and derived masks ...`);
        const generated = await generatePairs({ ganDir, out: pairsDir, count: split.slices.train.length, seed: 1 });
        io.out(`    ${generated.count} pairs in ${pairsDir} (${Object.entries(generated.byOrigin).map(([k, v]) => `${k} ${v}`).join(', ')})`);
        io.out(`7/${steps} training the same U-Net with origin+gan (generated : real 1) ...`);
        const ganRecipe = await loadRecipe('origin+gan', { ganDir: pairsDir, ganRatio: 1 });
        const ganSummary = await train({ runDir: ganRunDir, config: { ...config, recipe: ganRecipe, savePredictions: false }, hooks: [progressHook(io)] });
        io.out(formatRunResult(ganSummary, ganRunDir));
        io.out(`\n${formatComparison(summary, ganSummary)}`);
      }
      // Experiment step: a tiny recipe x seed grid and its paper-style table.
      if (options.experiment) {
        await rm(join(workspace, DEMO_EXPERIMENT_DIR), { recursive: true, force: true });
        io.out(`${steps}/${steps} a tiny experiment grid and its paper-style table ...`);
        await runDemoExperiment(workspace, sampleDir, splitFile, io);
      }
    });
}

/** Both demo runs side by side: test Dice and IoU of origin and origin+gan. */
function formatComparison(origin: RunSummary, gan: RunSummary): string {
  const row = (name: string, s: RunSummary) => `${name.padEnd(12)} ${s.test?.metrics.dice?.toFixed(4) ?? "-"}     ${s.test?.metrics.iou?.toFixed(4) ?? "-"}`;
  return ['recipe       test Dice  test IoU', row('origin', origin), row('origin+gan', gan)].join('\n');
}
