import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CovsegError } from '../engine/errors';
import { acquireFolderLock } from '../engine/runs/run-lock';
import { sbatchScript, type SlurmOptions } from '../engine/experiments/slurm/sbatch-script';
import { runSlurmExperiment } from '../engine/experiments/slurm/run-slurm-experiment';
import { expandGrid } from '../engine/experiments/expand-grid';
import { loadExperiment } from '../engine/experiments/experiment-file';
import { prepareExperiment, runExperiment, type ExperimentProgress } from '../engine/experiments/run-experiment';
import { writeExperimentReport } from '../engine/experiments/report/write-report';
import type { CliContext } from './output';
import { parseInteger } from './parse-options';

const EXECUTORS = ['local', 'slurm'] as const;

interface RunFlags extends Omit<SlurmOptions, 'extraLines'> {
  out: string;
  data?: string;
  executor: string;
  parallel: number;
  report: boolean;
  dryRun?: boolean;
  poll: number;
  /** `--sbatch-line`, repeatable: SlurmOptions' extra lines. */
  sbatchLine: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

function slurmOptionsOf(flags: RunFlags): SlurmOptions {
  return { time: flags.time, mem: flags.mem, cpus: flags.cpus, gpus: flags.gpus, extraLines: flags.sbatchLine, ...(flags.partition ? { partition: flags.partition } : {}), ...(flags.maxRunning ? { maxRunning: flags.maxRunning } : {}) };
}

/** Slurm --dry-run: prints the job-array script of the pending cells without submitting it. */
async function slurmDryRun(file: string, flags: RunFlags, io: CliContext): Promise<void> {
  const spec = await loadExperiment(file, flags.data ? { dataset: flags.data } : {});
  const expDir = resolve(flags.out);
  const lock = await acquireFolderLock(expDir, 'covseg experiment run --executor slurm --dry-run');
  try {
    const { pending, split } = await prepareExperiment(spec, expDir, (line) => io.err(line));
    io.out(sbatchScript(spec, pending, expDir, split.file, slurmOptionsOf(flags)));
  } finally {
    await lock.release();
  }
}

function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The one progress line of a running grid. */
export function formatExperimentProgress(p: ExperimentProgress): string {
  return `cells ${p.done}/${p.total} done, ${p.running} running, ${p.queued !== undefined ? `${p.queued} queued, ` : ''}${p.failed} failed, ETA ${duration(p.etaSeconds)}`;
}

export function registerExperimentCommand(program: Command, io: CliContext): void {
  const experiment = program.command('experiment').description('run a recipe x model x loss x seed grid and compare the recipes with honest statistics');

  experiment
    .command('plan')
    .description('check an experiment file and list its cells without running anything')
    .argument('<file>', 'experiment JSON/YAML file, or a preset: quick, seed-study')
    .option('--data <dir>', 'dataset folder (required for a preset; overrides the file)')
    .action(async (file: string, flags: { data?: string }) => {
      const spec = await loadExperiment(file, flags.data ? { dataset: flags.data } : {});
      const cells = expandGrid(spec);
      io.out([`experiment ${spec.name}: ${cells.length} cell(s) on ${spec.dataset}`, ...cells.map((c) => `  ${c.id}`)].join('\n'));
    });

  experiment
    .command('run')
    .description('run every unfinished cell (resumable: finished cells are skipped, killed ones resume from their checkpoint)')
    .argument('<file>', 'experiment JSON/YAML file, or a preset: quick, seed-study')
    .requiredOption('--out <expdir>', 'experiment folder: runs/<cell>/, logs/, experiment.json, split.json')
    .option('--data <dir>', 'dataset folder (required for a preset; overrides the file)')
    .option('--executor <name>', `where cells run: ${EXECUTORS.join(', ')}`, 'local')
    .option('--parallel <n>', 'cells at once (each gets cores / n training threads)', parseInteger, 1)
    .option('--no-report', 'do not write the report when the grid ends')
    .option('--dry-run', 'slurm: print the sbatch job-array script instead of submitting it (the split and experiment.json are still made)')
    .option('--poll <seconds>', 'slurm: seconds between two looks at the queue', parseInteger, 10)
    .option('--partition <name>', 'slurm: partition')
    .option('--time <hh:mm:ss>', 'slurm: wall time per cell', '04:00:00')
    .option('--mem <size>', 'slurm: memory per cell', '8G')
    .option('--cpus <n>', 'slurm: CPUs per cell', parseInteger, 2)
    .option('--gpus <n>', 'slurm: GPUs per cell', parseInteger, 0)
    .option('--max-running <n>', 'slurm: array tasks at once', parseInteger)
    .option('--sbatch-line <line>', 'slurm: extra script line, e.g. "#SBATCH --account=lab" or "module load nodejs" (repeatable)', collect, [])
    .action(async (file: string, flags: RunFlags) => {
      if (!(EXECUTORS as readonly string[]).includes(flags.executor)) {
        throw new CovsegError('unsupported', `executor "${flags.executor}" is not available`, { fix: `use --executor ${EXECUTORS.join(' or ')}` });
      }
      if (flags.executor === 'slurm' && flags.dryRun) return slurmDryRun(file, flags, io);
      if (flags.dryRun) throw new CovsegError('bad-parameter', '--dry-run is for --executor slurm', { fix: 'use `covseg experiment plan FILE` to list the cells' });
      const spec = await loadExperiment(file, flags.data ? { dataset: flags.data } : {});
      const slurm = flags.executor === 'slurm';
      const controller = new AbortController();
      const force = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) {
          // Slurm: the second Ctrl-C ends the jobs at once (scancel) before the command returns.
          if (slurm && !force.signal.aborted) return force.abort();
          process.exit(130);
        }
        io.err(slurm ? '\nstopping: cancelling the Slurm jobs of this experiment ...' : '\nstopping: running cells save a checkpoint after their current batch (Ctrl-C again to quit at once) ...');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      process.on('SIGTERM', onInterrupt);
      let lastLine = '';
      try {
        const onProgress = (progress: ExperimentProgress) => {
          const line = formatExperimentProgress(progress);
          if (line !== lastLine) io.err(line);
          lastLine = line;
        };
        const common = { expDir: resolve(flags.out), signal: controller.signal, onMessage: (line: string) => io.err(line), onProgress };
        const outcome = slurm
          ? await runSlurmExperiment(spec, { ...common, slurm: slurmOptionsOf(flags), pollSeconds: flags.poll, forceSignal: force.signal })
          : await runExperiment(spec, { ...common, parallel: flags.parallel });
        io.out(`experiment ${spec.name}: ${outcome.skipped} cell(s) already finished, ${outcome.ran} ran now, ${outcome.failed} failed${outcome.cancelled ? '; stopped — run the same command again to continue' : ''}`);
        if (outcome.failed > 0) io.exitCode = 1;
        if (flags.report && !outcome.cancelled) {
          const report = await writeExperimentReport(resolve(flags.out));
          io.out(`\n${report.markdown}\nwrote ${report.files.join(', ')}`);
        }
      } finally {
        process.off('SIGINT', onInterrupt);
        process.off('SIGTERM', onInterrupt);
      }
    });

  experiment
    .command('report')
    .description('write results.csv, results.md and report.html for an experiment folder (also mid-run)')
    .argument('<expdir>', 'experiment folder')
    .action(async (expDir: string) => {
      const report = await writeExperimentReport(resolve(expDir));
      io.out(`${report.markdown}\nwrote ${report.files.join(', ')}`);
    });
}
