import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { TrainingProgress } from '../../src-shared/contract';
import type { z } from 'zod';
import type { trainRequest } from '../../src-shared/contract/training';
import { CovsegError } from '../engine/errors';

type ParsedTrainRequest = z.output<typeof trainRequest>;

const COVSEG_BIN = resolve(import.meta.dirname, '../../bin/covseg.mjs');
/** Pushes of batch progress at most this often (tfjs-layers' callbacks throttle the same way). */
const BATCH_EVENT_INTERVAL_MS = 125;

interface ActiveRun {
  child: ChildProcess;
  batchesDone: number;
  totalBatches: number;
  startedAt: number;
  lastPush: number;
  /** The state the CLI reported in its last line; a cancelled run exits with code 0 too. */
  endState?: 'completed' | 'cancelled';
}

/**
 * Runs training in a child `covseg train` process: off the UI thread, cancellable (SIGINT stops it
 * after the current batch, leaving a resumable run), and alive across window reloads. Progress comes
 * back as JSON lines and is pushed as `training:progress` events.
 */
export class TrainingService {
  private readonly active = new Map<string, ActiveRun>();

  constructor(
    private readonly runsDir: string,
    private readonly emit: (progress: TrainingProgress) => void,
  ) {}

  async start(request: ParsedTrainRequest, datasetRoot: string): Promise<{ runId: string }> {
    await mkdir(this.runsDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const runId = `${stamp}-${request.model}-${request.loss.replace('+', '-')}-s${request.seed}-${Math.random().toString(36).slice(2, 6)}`;
    const args = [
      COVSEG_BIN, 'train', '--progress-json',
      '--data', datasetRoot, '--out', join(this.runsDir, runId),
      '--model', request.model, '--loss', request.loss,
      '--epochs', String(request.epochs), '--size', String(request.size), '--batch', String(request.batch),
      '--lr', String(request.lr), '--seed', String(request.seed),
      '--depth', String(request.depth), '--base-filters', String(request.baseFilters),
      '--val', String(request.val), '--test', String(request.test),
      ...(request.recipe ? ['--recipe', request.recipe] : []),
      ...(request.model === 'segformer' && request.variant ? ['--variant', request.variant] : []),
    ];
    // In Electron, the app binary runs the CLI as plain Node.
    const env = process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const run: ActiveRun = { child, batchesDone: 0, totalBatches: 0, startedAt: Date.now(), lastPush: 0 };
    this.active.set(runId, run);
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(runId, run, line));
    child.on('exit', (code, signal) => {
      this.active.delete(runId);
      const state = code === 0 ? (run.endState ?? 'completed') : 'failed';
      const message = state !== 'failed' ? undefined : (stderrTail.split('\n').filter((l) => l.startsWith('error:')).pop() ?? `training process ended (${signal ?? code})`);
      this.emit({ runId, kind: 'status', state, ...(message ? { message } : {}) });
    });
    this.emit({ runId, kind: 'status', state: 'running' });
    return { runId };
  }

  private onLine(runId: string, run: ActiveRun, line: string): void {
    let message: Record<string, number | string>;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'begin') {
      run.totalBatches = (Number(message.epochs) - Number(message.epoch)) * Number(message.batches);
    } else if (message.type === 'batch') {
      run.batchesDone++;
      const now = Date.now();
      const last = Number(message.batch) + 1 === Number(message.batches);
      if (now - run.lastPush < BATCH_EVENT_INTERVAL_MS && !last) return;
      run.lastPush = now;
      const perBatch = (now - run.startedAt) / run.batchesDone;
      this.emit({
        runId,
        kind: 'batch',
        epoch: Number(message.epoch) + 1,
        epochs: Number(message.epochs),
        batch: Number(message.batch) + 1,
        batches: Number(message.batches),
        loss: Number(message.loss),
        etaSeconds: run.totalBatches > 0 ? Math.max(0, ((run.totalBatches - run.batchesDone) * perBatch) / 1000) : null,
      });
    } else if (message.type === 'epoch') {
      const nullable = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      this.emit({ runId, kind: 'epoch', epoch: Number(message.epoch), epochs: Number(message.epochs), trainLoss: Number(message.trainLoss), valLoss: nullable(message.valLoss), valDice: nullable(message.valDice), valIou: nullable(message.valIou) });
    } else if (message.type === 'end') {
      run.endState = message.status === 'cancelled' ? 'cancelled' : 'completed';
    }
  }

  cancel(runId: string): { cancelled: boolean } {
    const run = this.active.get(runId);
    if (!run) throw new CovsegError('not-found', `run ${runId} is not training`, { fix: 'list runs to see their state' });
    run.child.kill('SIGINT');
    return { cancelled: true };
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Stops every child (the app is quitting); their runs stay resumable. */
  dispose(): void {
    for (const run of this.active.values()) run.child.kill('SIGINT');
  }
}
