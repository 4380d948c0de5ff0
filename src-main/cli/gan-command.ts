import type { Command } from 'commander';
import { BACKEND_CHOICES, describeBackend, type BackendChoice } from '../engine/backend/select-backend';
import { resolveGanConfig, GAN_PRESETS, type GanPreset } from '../engine/gan/gan-config';
import { generatePairs } from '../engine/gan/generate-pairs';
import { trainGan, type GanHooks } from '../engine/gan/train-gan';
import type { GanKind } from '../../src-shared/contract/gan-pairs';
import type { ClassTask } from '../engine/training/class-task';
import type { CliContext, CliIo } from './output';
import { parseInteger, parsePositiveNumber } from './parse-options';
import { appendProgressLine } from './progress-file-hook';

interface GanTrainFlags {
  data: string;
  split: string;
  kind: GanKind;
  out: string;
  preset?: GanPreset;
  size?: number;
  epochs?: number;
  batch?: number;
  filters?: number;
  lr?: number;
  seed: number;
  classes: ClassTask | 'auto';
  pairs?: string[];
  backend: BackendChoice;
  workers: number;
  resume?: boolean;
  json?: boolean;
  progressFile?: string;
}

/** Terminal progress: one line per epoch (G and D losses, where the sample grid went), a redrawn bar on a TTY. */
export function ganProgressHook(io: CliIo): GanHooks {
  return {
    onTrainBegin: (context) => {
      const { config } = context.record;
      io.err(`training ${config.kind} (generation ${context.record.generation}) on ${context.trainCount} slices${context.record.pairs.length ? ' incl. generated pairs' : ''}, ${config.size} px, batch ${config.batch}, ${config.preset} preset, backend ${describeBackend(context.record.backend)}, ${context.record.workers ?? 1} worker(s)`);
      if (context.state.epoch > 0) io.err(`resuming after epoch ${context.state.epoch}`);
    },
    onBatchEnd: (log, context) => {
      if (io.interactive) process.stderr.write(`\r\x1b[Kepoch ${log.epoch + 1}/${context.record.config.epochs} batch ${log.batch + 1}/${log.batches}  G ${log.gLoss.toFixed(3)}  D ${log.dLoss.toFixed(3)}`);
    },
    onEpochEnd: (log, context) => {
      if (io.interactive) process.stderr.write('\r\x1b[K');
      io.err(`epoch ${log.epoch}/${context.record.config.epochs}  G loss ${log.gLoss.toFixed(4)}  D loss ${log.dLoss.toFixed(4)}  L1 ${log.l1.toFixed(4)}  samples ${log.samples}  (${log.seconds.toFixed(1)} s)`);
    },
  };
}

/** The same messages as `covseg train --progress-file` (begin, batch, epoch, end), with G and D losses. */
export function ganProgressFileHook(file: string): GanHooks {
  let lastBatch = -Infinity;
  return {
    onTrainBegin: (context) => appendProgressLine(file, { type: 'begin', ganDir: context.ganDir, epoch: context.state.epoch, epochs: context.record.config.epochs, batches: context.batchesPerEpoch, time: Date.now(), pid: process.pid }),
    onBatchEnd: async (log, context) => {
      if (Date.now() - lastBatch < 250 && log.batch + 1 < log.batches) return;
      lastBatch = Date.now();
      await appendProgressLine(file, { type: 'batch', ...log, epochs: context.record.config.epochs });
    },
    onEpochEnd: (log, context) => appendProgressLine(file, { type: 'epoch', ...log, epochs: context.record.config.epochs }),
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerGanCommand(program: Command, io: CliContext): void {
  const gan = program.command('gan').description('GAN synthesis: train a pix2pix or DAGAN generator on a split, generate image/mask pairs, check and curate them');
  gan
    .command('train')
    .description('train a GAN on the training slices of a split; writes GANDIR (gan.json, metrics.jsonl, samples/epoch-NNN.png, checkpoints)')
    .requiredOption('--data <dir>', 'dataset folder')
    .requiredOption('--split <file>', 'split file from `covseg split`: the GAN sees its training slices only')
    .requiredOption('--out <gandir>', 'GAN folder to create (or to continue with --resume)')
    .option('--kind <kind>', 'pix2pix (mask -> slice) or dagan (slice + mask + noise -> another slice for that mask)', 'pix2pix')
    .option('--preset <name>', `${GAN_PRESETS.join(' or ')}: seed = 256 px, batch 8, 50 epochs, 64 filters; cpu = 128 px, batch 4, 20 epochs, 16 filters (default)`)
    .option('--size <px>', 'slice size (power of two)', parseInteger)
    .option('--epochs <n>', 'epochs', parseInteger)
    .option('--batch <n>', 'batch size', parseInteger)
    .option('--filters <n>', 'filters of the first generator and discriminator layer', parseInteger)
    .option('--lr <rate>', 'Adam learning rate (beta1 0.5)', parsePositiveNumber)
    .option('--classes <task>', 'auto, lesion or ggo-consolidation (condition on ground-glass and consolidation planes)', 'auto')
    .option('--pairs <pairsdir>', 'GAN-on-GAN: also train on these generated pairs (accepted ones, or all if none was curated); repeatable', collect)
    .option('--seed <n>', 'seed of weights, batch order and noise', parseInteger, 1)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, process.env.COVSEG_BACKEND ?? 'auto')
    .option('--workers <n>', 'data-parallel threads: 0 = auto (2 on wasm/cpu with 2+ cores), 1 or 2; a resume keeps the GAN\'s', parseInteger, 0)
    .option('--resume', 'continue the GAN in --out from its last checkpoint')
    .option('--json', 'print the summary as JSON')
    .option('--progress-file <file>', 'append progress as JSON lines to this file (the app follows it)')
    .action(async (flags: GanTrainFlags, command: Command) => {
      // Without a GPU the cpu preset is the default; an explicit --preset wins.
      const preset = flags.preset ?? (flags.backend === 'tensorflow-gpu' || flags.backend === 'webgpu' ? 'seed' : 'cpu');
      const config = resolveGanConfig({
        kind: flags.kind,
        data: flags.data,
        splitFile: flags.split,
        preset,
        pairs: flags.pairs ?? [],
        seed: flags.seed,
        backend: flags.backend,
        classes: flags.classes,
        workers: flags.workers,
        ...(flags.size !== undefined ? { size: flags.size } : {}),
        ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
        ...(flags.batch !== undefined ? { batch: flags.batch } : {}),
        ...(flags.filters !== undefined ? { generatorFilters: flags.filters, discriminatorFilters: flags.filters } : {}),
        ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
      });
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(130);
        io.err('\ncancelling after the current batch (Ctrl-C again to quit at once) ...');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', onInterrupt);
      try {
        const summary = await trainGan({
          ganDir: flags.out,
          config,
          resume: Boolean(flags.resume),
          ...(flags.resume && command.getOptionValueSource('epochs') === 'cli' ? { epochs: flags.epochs! } : {}),
          hooks: [ganProgressHook(io), ...(flags.progressFile ? [ganProgressFileHook(flags.progressFile)] : [])],
          signal: controller.signal,
        });
        if (flags.progressFile) await appendProgressLine(flags.progressFile, { type: 'end', status: summary.status, epochs: summary.epochs });
        if (flags.json) io.out(JSON.stringify(summary, null, 2));
        else io.out(`GAN ${summary.status}: ${summary.epochs} epoch(s)${summary.last ? `, G loss ${summary.last.gLoss.toFixed(4)}, D loss ${summary.last.dLoss.toFixed(4)}` : ''}\nGAN folder: ${summary.ganDir}`);
        if (summary.status === 'cancelled') io.err(`cancelled; continue with: covseg gan train --data ${flags.data} --split ${flags.split} --out ${flags.out} --resume`);
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });

  gan
    .command('generate')
    .description('generate image/mask pairs with a trained GAN into PAIRSDIR (frames/, masks/, labels/, pairs.jsonl, generator.json)')
    .requiredOption('--gan <gandir>', 'GAN folder from `covseg gan train`')
    .requiredOption('--out <pairsdir>', 'new or empty folder for the pairs')
    .option('--count <n>', 'pairs to generate (default: the preset\'s, 500 for cpu, 2500 for seed)', parseInteger)
    .option('--from-masks <dir>', 'take input masks from this frames/ + masks/ folder instead of the GAN\'s training masks')
    .option('--seed <n>', 'seed: the same seed gives byte-identical pairs on the same backend', parseInteger, 1)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, process.env.COVSEG_BACKEND)
    .option('--force', 'write into a non-empty folder')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { gan: string; out: string; count?: number; fromMasks?: string; seed: number; backend?: BackendChoice; force?: boolean; json?: boolean }) => {
      const { readGanRecord } = await import('../engine/gan/gan-record');
      const count = flags.count ?? (await readGanRecord(flags.gan)).config.defaultCount;
      const controller = new AbortController();
      const onInterrupt = () => controller.abort();
      process.on('SIGINT', onInterrupt);
      try {
        const result = await generatePairs({
          ganDir: flags.gan,
          out: flags.out,
          count,
          seed: flags.seed,
          ...(flags.fromMasks ? { fromMasks: flags.fromMasks } : {}),
          ...(flags.backend ? { backend: flags.backend } : {}),
          force: Boolean(flags.force),
          signal: controller.signal,
          onProgress: (done, total) => {
            if (io.interactive) process.stderr.write(`\r\x1b[Kgenerated ${done}/${total}`);
          },
        });
        if (io.interactive) process.stderr.write('\r\x1b[K');
        if (flags.json) io.out(JSON.stringify(result, null, 2));
        else io.out(`generated ${result.count} pair(s) into ${result.out} (input masks: ${Object.entries(result.byOrigin).map(([k, v]) => `${k} ${v}`).join(', ')})`);
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
}
