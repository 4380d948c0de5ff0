import { appendFile } from 'node:fs/promises';
import type { TrainingHooks } from '../engine/training/trainer';

/** Batch lines are written at most this often (plus each epoch's last batch): the file stays small on long runs. */
const BATCH_LINE_INTERVAL_MS = 250;

/** Appends one progress message as a JSON line. */
export function appendProgressLine(file: string, message: Record<string, unknown>): Promise<void> {
  return appendFile(file, `${JSON.stringify(message)}\n`);
}

/**
 * Training progress as JSON-line messages (phase, begin, batch, epoch; the command adds end), handed to
 * `write`. Batch messages come at most every `batchIntervalMs` (plus each epoch's last batch).
 */
export function progressMessagesHook(write: (message: Record<string, unknown>) => void | Promise<void>, batchIntervalMs: number, clock: () => number = Date.now): TrainingHooks {
  let lastBatchLine = -Infinity;
  return {
    // Already throttled by the trainer (first, every 250 ms, last).
    onPhase: (progress) => write({ type: 'phase', ...progress, time: clock() }),
    onTrainBegin: (context) => write({ type: 'begin', runDir: context.runDir, epoch: context.state.epoch, epochs: context.config.epochs, batches: context.batchesPerEpoch, time: clock(), pid: process.pid }),
    onBatchEnd: async (log, context) => {
      const now = clock();
      if (now - lastBatchLine < batchIntervalMs && log.batch + 1 < log.batches) return;
      lastBatchLine = now;
      await write({ type: 'batch', ...log, epochs: context.config.epochs });
    },
    onEpochEnd: (log, context) => write({ type: 'epoch', ...log, epochs: context.config.epochs }),
  };
}

/**
 * Progress appended to a file (`covseg train --progress-file`). A server or the app follows the
 * file instead of the process's stdout, so the training does not depend on the process that
 * launched it staying alive to read a pipe.
 */
export function progressFileHook(file: string, clock: () => number = Date.now): TrainingHooks {
  return progressMessagesHook((message) => appendProgressLine(file, message), BATCH_LINE_INTERVAL_MS, clock);
}
