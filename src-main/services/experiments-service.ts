import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ExperimentCellResult, ExperimentDetail, ExperimentListItem, ExperimentMetric, ExperimentProgress } from '../../src-shared/contract';
import type { experimentStartRequest } from '../../src-shared/contract/experiments';
import { CovsegError } from '../engine/errors';
import { loadExperiment } from '../engine/experiments/experiment-file';
import { writeJsonAtomic } from '../engine/files/atomic-write';
import { EXPERIMENT_FILES, readExperimentState, type ExperimentState } from '../engine/experiments/experiment-state';
import { collectResults } from '../engine/experiments/statistics/collect-results';
import { ALPHA, compareWithOrigin, groupOf, summariseConfigurations, type MetricSummary } from '../engine/experiments/statistics/compare-recipes';
import { prepareExperiment } from '../engine/experiments/run-experiment';
import { acquireFolderLock, isStale, readLockHolder } from '../engine/runs/run-lock';
import { nodeProcessLauncher, type ProcessLauncher } from './process-launcher';

type ParsedStart = z.output<typeof experimentStartRequest>;

/** How often a running experiment's state file is read for progress events. */
const POLL_MS = 1000;
/** The grid file the service writes into each experiment folder it starts. */
const GRID_FILE = 'grid.json';
const RUN_LOG = 'run.log';
const ID = /^[A-Za-z0-9][\w.+-]*$/;

export interface ExperimentsServiceOptions {
  /** WORKSPACE/experiments: one folder per experiment. */
  experimentsDir: string;
  emit: (progress: ExperimentProgress) => void;
  /** How `covseg experiment run` starts (default: a detached Node child, like trainings). */
  launcher?: ProcessLauncher;
  pollMs?: number;
}

interface Followed {
  pid: number;
  timer: NodeJS.Timeout;
  last: string;
  cancelled: boolean;
}

function counts(state: ExperimentState): Pick<ExperimentListItem, 'total' | 'done' | 'running' | 'failed'> {
  const records = Object.values(state.records);
  return { total: state.cells.length, done: records.filter((r) => r.state === 'done').length, running: records.filter((r) => r.state === 'running').length, failed: records.filter((r) => r.state === 'failed').length };
}

function metric(summary: MetricSummary): ExperimentMetric {
  return { mean: summary.mean, sd: summary.sd, ciLow: summary.ci?.low ?? null, ciHigh: summary.ci?.high ?? null, values: summary.values };
}

/**
 * Experiments in the app: lists and reads the experiment folders of the workspace (the same files
 * `covseg experiment report` reads) and starts grids as detached `covseg experiment run`
 * processes, as the training service starts `covseg train` — so a grid survives the app, and
 * progress comes from the folder's experiment.json, not a pipe.
 */
export class ExperimentsService {
  private readonly followed = new Map<string, Followed>();
  private readonly launcher: ProcessLauncher;

  constructor(private readonly options: ExperimentsServiceOptions) {
    this.launcher = options.launcher ?? nodeProcessLauncher;
  }

  private dir(experimentId: string): string {
    if (!ID.test(experimentId)) throw new CovsegError('bad-parameter', `invalid experiment id "${experimentId}"`, { fix: 'list experiments to see their ids' });
    return join(this.options.experimentsDir, experimentId);
  }

  /** The pid of the `covseg experiment run` holding the folder now, if any. */
  private async holder(dir: string): Promise<number | undefined> {
    const holder = await readLockHolder(dir).catch(() => undefined);
    return holder && !isStale(holder) ? holder.pid : undefined;
  }

  private async item(experimentId: string, state: ExperimentState): Promise<ExperimentListItem> {
    const active = this.followed.has(experimentId) || (await this.holder(this.dir(experimentId))) !== undefined;
    return { experimentId, name: state.name, dataset: state.spec.dataset, createdAt: state.createdAt, updatedAt: state.updatedAt, ...counts(state), active };
  }

  /** Experiment folders of the workspace, newest first; unreadable ones are left out. */
  async list(): Promise<ExperimentListItem[]> {
    if (!existsSync(this.options.experimentsDir)) return [];
    const items: ExperimentListItem[] = [];
    for (const entry of await readdir(this.options.experimentsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !ID.test(entry.name)) continue;
      const state = await readExperimentState(join(this.options.experimentsDir, entry.name)).catch(() => undefined);
      if (state) items.push(await this.item(entry.name, state));
    }
    return items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** One experiment: its grid, every cell's results and curve, and the statistics of the report. */
  async get(experimentId: string): Promise<ExperimentDetail> {
    const dir = this.dir(experimentId);
    if (!existsSync(join(dir, EXPERIMENT_FILES.state))) throw new CovsegError('not-found', `no experiment "${experimentId}" in the workspace`, { file: dir, fix: 'list experiments to see their ids' });
    const { state, results } = await collectResults(dir);
    const configurations = summariseConfigurations(results);
    const comparisons = compareWithOrigin(results);
    const cells: ExperimentCellResult[] = results.map((r) => {
      const record = state.records[r.cell.id];
      return {
        cellId: r.cell.id,
        recipe: r.cell.recipe,
        model: r.cell.model,
        loss: r.cell.loss,
        classes: r.cell.classes,
        seed: r.cell.seed,
        group: groupOf(r),
        state: r.state,
        attempts: record?.attempts ?? 0,
        ...(r.error ? { error: r.error } : {}),
        ...(record?.slurmTask ? { slurmTask: record.slurmTask } : {}),
        epochs: r.epochs,
        seconds: r.seconds,
        testLoss: r.testLoss,
        dice: r.dice,
        iou: r.iou,
        miou: r.miou,
        hd95: r.hd95,
        perClass: r.perClass,
        curve: r.curve,
      };
    });
    return {
      ...(await this.item(experimentId, state)),
      axes: { recipes: state.spec.axes.recipes, models: state.spec.axes.models, losses: state.spec.axes.losses, seeds: state.spec.axes.seeds, classes: state.spec.axes.classes },
      fixed: state.spec.fixed as Record<string, number | string>,
      configurations: configurations.map((c) => ({
        group: c.group,
        recipe: c.recipe,
        done: c.done,
        total: c.total,
        testLoss: metric(c.testLoss),
        dice: metric(c.dice),
        iou: metric(c.iou),
        miou: metric(c.miou),
        hd95: metric(c.hd95),
        perClass: c.perClass.map((k) => ({ name: k.name, dice: metric(k.dice), iou: metric(k.iou) })),
      })),
      comparisons: comparisons.map((c) => ({ group: c.group, recipe: c.recipe, pairs: c.pairs, meanDifference: c.meanDifference, medianDifference: c.medianDifference, rankBiserial: c.test?.rankBiserial ?? null, p: c.test?.p ?? null, pHolm: c.pHolm, verdict: c.verdict })),
      cells,
      alpha: ALPHA,
    };
  }

  /** Writes the grid file into a new experiment folder, checks it, and starts `covseg experiment run` on it. */
  async start(request: ParsedStart, datasetRoot: string): Promise<{ experimentId: string }> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const experimentId = `${stamp}-${request.name}`;
    const dir = this.dir(experimentId);
    if (existsSync(dir)) throw new CovsegError('busy', `experiment ${experimentId} exists already`, { file: dir, fix: 'wait a second, or use another name' });
    const grid = {
      name: request.name,
      dataset: datasetRoot,
      axes: { recipes: request.recipes, models: request.models, losses: request.losses, seeds: request.seeds, classes: [request.classes] },
      fixed: { epochs: request.epochs, size: request.size, depth: request.depth, baseFilters: request.baseFilters },
    };
    await mkdir(dir, { recursive: true });
    const file = join(dir, GRID_FILE);
    await writeJsonAtomic(file, grid);
    // A bad grid fails here, with the experiment file's own message, not later in a log; the split
    // and experiment.json are made now, so the experiment can be opened before its process is up.
    const spec = await loadExperiment(file);
    const lock = await acquireFolderLock(dir, 'covseg app: new experiment');
    try {
      await prepareExperiment(spec, dir);
    } finally {
      await lock.release();
    }
    const args = ['experiment', 'run', file, '--out', dir, '--executor', request.executor, '--parallel', String(request.parallel)];
    const launched = await this.launcher(args, { logFile: join(dir, RUN_LOG) });
    this.follow(experimentId, launched.pid, launched.exited);
    return { experimentId };
  }

  /** Ctrl-C for the experiment's run process: running cells checkpoint, Slurm jobs are cancelled. */
  async cancel(experimentId: string): Promise<{ cancelled: boolean }> {
    const dir = this.dir(experimentId);
    const pid = this.followed.get(experimentId)?.pid ?? (await this.holder(dir));
    if (pid === undefined) throw new CovsegError('not-found', `experiment ${experimentId} is not running`, { file: dir, fix: 'list experiments to see which run' });
    const followed = this.followed.get(experimentId);
    if (followed) followed.cancelled = true;
    process.kill(pid, 'SIGINT');
    return { cancelled: true };
  }

  private follow(experimentId: string, pid: number, exited: Promise<unknown>): void {
    const dir = join(this.options.experimentsDir, experimentId);
    const followed: Followed = { pid, last: '', cancelled: false, timer: setInterval(() => void this.poll(experimentId, dir, followed), this.options.pollMs ?? POLL_MS) };
    followed.timer.unref();
    this.followed.set(experimentId, followed);
    void exited.then(async () => {
      clearInterval(followed.timer);
      this.followed.delete(experimentId);
      const state = await readExperimentState(dir).catch(() => undefined);
      const tally = state ? counts(state) : { total: 0, done: 0, running: 0, failed: 0 };
      const outcome: ExperimentProgress['state'] = followed.cancelled ? 'cancelled' : !state || tally.failed > 0 || tally.done < tally.total ? 'failed' : 'finished';
      const message = outcome === 'failed' ? await this.lastLogLine(dir) : undefined;
      this.options.emit({ experimentId, state: outcome, ...tally, ...(message ? { message } : {}) });
    });
  }

  private async poll(experimentId: string, dir: string, followed: Followed): Promise<void> {
    const state = await readExperimentState(dir).catch(() => undefined);
    if (!state) return;
    const tally = counts(state);
    const key = JSON.stringify(tally);
    if (key === followed.last) return;
    followed.last = key;
    this.options.emit({ experimentId, state: 'running', ...tally });
  }

  private async lastLogLine(dir: string): Promise<string | undefined> {
    const text = await readFile(join(dir, RUN_LOG), 'utf8').catch(() => '');
    return text.split('\n').filter((l) => /^(error|cell .* failed)/.test(l.trim())).pop();
  }

  /** Stops following (the app is going away); the run processes go on and the folders keep their state. */
  dispose(): void {
    for (const followed of this.followed.values()) clearInterval(followed.timer);
    this.followed.clear();
  }
}
