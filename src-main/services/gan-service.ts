import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { GanListItem, GanProgress } from '../../src-shared/contract';
import type { ganTrainRequest } from '../../src-shared/contract/gan';
import type { Dataset } from '../engine/datasets/types';
import { scanDataset } from '../engine/datasets/scan-dataset';
import { splitDataset, writeSplit } from '../engine/datasets/split-dataset';
import { CovsegError } from '../engine/errors';
import { GAN_FILES, type GanRecord } from '../engine/gan/gan-record';
import type { GanEpochLog } from '../engine/gan/train-gan';
import { readMetrics, readStatus } from '../engine/runs/run-files';
import { followLines, type FollowedFile } from './follow-lines';
import { nodeProcessLauncher, type ProcessLauncher } from './process-launcher';

type ParsedGanRequest = z.output<typeof ganTrainRequest>;

const BATCH_EVENT_INTERVAL_MS = 125;
const GAN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Progress lines `covseg gan train --progress-file` appends in the GAN folder. */
export const GAN_PROGRESS_FILE = 'progress.jsonl';

export interface GanServiceOptions {
  /** GAN folders (WORKSPACE/gans/ID). */
  gansDir: string;
  /** Split files made for GANs started without one (kept outside the GAN folders: they are its inputs). */
  splitsDir: string;
  /** Each training's output log (`ID.log`). */
  jobsDir: string;
  emit: (progress: GanProgress) => void;
  launcher?: ProcessLauncher;
}

interface Active {
  pid: number;
  tail: FollowedFile;
  /** The progress lines handled so far, in order. */
  lines: Promise<void>;
  lastPush: number;
}

async function dataUrl(file: string): Promise<string | null> {
  try {
    return `data:image/png;base64,${(await readFile(file)).toString('base64')}`;
  } catch {
    return null;
  }
}

/**
 * Runs GAN trainings as detached `covseg gan train` processes, followed through their progress
 * file (as the training service follows `covseg train`), one at a time: a GAN step takes both cores.
 */
export class GanService {
  private readonly active = new Map<string, Active>();
  private readonly launcher: ProcessLauncher;

  constructor(private readonly options: GanServiceOptions) {
    this.launcher = options.launcher ?? nodeProcessLauncher;
  }

  private ganDir(ganId: string): string {
    if (!GAN_ID.test(ganId)) throw new CovsegError('bad-parameter', `invalid GAN id "${ganId}"`, { fix: 'list GANs to see their ids' });
    return join(this.options.gansDir, ganId);
  }

  async startTraining(request: ParsedGanRequest, dataset: Dataset): Promise<{ ganId: string }> {
    if (this.active.size > 0) {
      throw new CovsegError('busy', `GAN ${[...this.active.keys()][0]} is training`, { fix: 'wait for it to finish, or cancel it' });
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const ganId = `${stamp}-${request.kind}-s${request.seed}-${Math.random().toString(36).slice(2, 6)}`;
    const splitFile = join(this.options.splitsDir, `gan-${ganId}.json`);
    // The GAN's split, made here and kept outside its folder (an input); train later runs on it with --split.
    {
      const scan = await scanDataset(dataset);
      const split = splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, { val: request.val, test: request.test, seed: request.seed });
      await writeSplit(splitFile, split);
    }
    await mkdir(this.options.gansDir, { recursive: true });
    await mkdir(this.options.jobsDir, { recursive: true });
    const ganDir = this.ganDir(ganId);
    const progressFile = join(this.options.jobsDir, `${ganId}.progress.jsonl`);
    const args = [
      'gan', 'train', '--data', dataset.root, '--split', splitFile, '--out', ganDir,
      '--kind', request.kind, '--preset', request.preset, '--seed', String(request.seed),
      ...(request.epochs !== undefined ? ['--epochs', String(request.epochs)] : []),
      ...(request.size !== undefined ? ['--size', String(request.size)] : []),
      ...(request.batch !== undefined ? ['--batch', String(request.batch)] : []),
      ...(request.filters !== undefined ? ['--filters', String(request.filters)] : []),
      '--progress-file', progressFile,
    ];
    const launched = await this.launcher(args, { logFile: join(this.options.jobsDir, `${ganId}.log`) });
    const active: Active = {
      pid: launched.pid,
      lastPush: 0,
      lines: Promise.resolve(),
      // In order: an epoch line reads its sample grid, and the end status must come after it.
      tail: followLines(progressFile, 0, (line) => {
        active.lines = active.lines.then(() => this.onLine(ganId, active, line)).catch(() => undefined);
      }),
    };
    this.active.set(ganId, active);
    this.options.emit({ ganId, kind: 'status', state: 'running' });
    void launched.exited.then(() => this.finish(ganId));
    return { ganId };
  }

  private async onLine(ganId: string, active: Active, line: string): Promise<void> {
    let message: Record<string, number | string>;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'batch') {
      const now = Date.now();
      if (now - active.lastPush < BATCH_EVENT_INTERVAL_MS && Number(message.batch) + 1 < Number(message.batches)) return;
      active.lastPush = now;
      this.options.emit({ ganId, kind: 'batch', epoch: Number(message.epoch) + 1, epochs: Number(message.epochs), batch: Number(message.batch) + 1, batches: Number(message.batches), gLoss: Number(message.gLoss), dLoss: Number(message.dLoss) });
    } else if (message.type === 'epoch') {
      const log = message as unknown as GanEpochLog & { epochs: number };
      this.options.emit({ ganId, kind: 'epoch', epoch: log.epoch, epochs: log.epochs, gLoss: log.gLoss, dLoss: log.dLoss, l1: log.l1, sampleGrid: await dataUrl(join(this.ganDir(ganId), log.samples)) });
    }
  }

  private async finish(ganId: string): Promise<void> {
    const active = this.active.get(ganId);
    if (!active) return;
    await active.tail.flush();
    await active.lines;
    active.tail.stop();
    this.active.delete(ganId);
    const dir = this.ganDir(ganId);
    let state: 'completed' | 'cancelled' | 'failed' = 'failed';
    let message: string | undefined;
    try {
      const status = await readStatus(dir);
      if (status.state !== 'running') state = status.state;
      message = status.error;
    } catch {
      const log = await readFile(join(this.options.jobsDir, `${ganId}.log`), 'utf8').catch(() => '');
      message = log.split('\n').filter((l) => l.startsWith('error:')).pop() ?? 'the GAN training ended before its first epoch';
    }
    this.options.emit({ ganId, kind: 'status', state, ...(message ? { message } : {}) });
  }

  async cancelTraining(ganId: string): Promise<{ cancelled: boolean }> {
    const active = this.active.get(ganId);
    if (!active) throw new CovsegError('not-found', `GAN ${ganId} is not training`, { fix: 'list GANs to see their state' });
    process.kill(active.pid, 'SIGINT');
    return { cancelled: true };
  }

  async listGans(): Promise<GanListItem[]> {
    const names = await readdir(this.options.gansDir).catch(() => [] as string[]);
    const items: GanListItem[] = [];
    for (const ganId of names.sort().reverse()) {
      const dir = join(this.options.gansDir, ganId);
      if (!existsSync(join(dir, GAN_FILES.record))) continue;
      try {
        const record = JSON.parse(await readFile(join(dir, GAN_FILES.record), 'utf8')) as GanRecord;
        const status = await readStatus(dir).catch(() => undefined);
        const losses = (await readMetrics<GanEpochLog>(dir)).map(({ epoch, gLoss, dLoss }) => ({ epoch, gLoss, dLoss }));
        items.push({
          ganId,
          kind: record.kind,
          generation: record.generation,
          state: this.active.has(ganId) ? 'running' : (status?.state ?? 'unknown'),
          epoch: status?.epoch ?? 0,
          epochs: record.config.epochs,
          createdAt: record.createdAt,
          dataset: record.dataset.root,
          losses,
        });
      } catch {
        // A folder being written or damaged is left out of the list, not fatal to it.
      }
    }
    return items;
  }

  async sampleGrid(ganId: string): Promise<string | null> {
    const dir = this.ganDir(ganId);
    const files = (await readdir(join(dir, GAN_FILES.samples)).catch(() => [] as string[])).filter((f) => f.endsWith('.png')).sort();
    return files.length ? dataUrl(join(dir, GAN_FILES.samples, files[files.length - 1]!)) : null;
  }

  /** Stops following (the trainings go on; their folders say how they ended). */
  dispose(): void {
    for (const active of this.active.values()) active.tail.stop();
    this.active.clear();
  }
}
