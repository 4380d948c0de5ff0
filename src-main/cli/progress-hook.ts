import type { TrainingHooks } from '../engine/training/trainer';
import type { CliIo } from './output';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const PHASE_WORDS = { scan: 'scanning the dataset:', decode: 'decoding slices:', validation: 'validation:', test: 'test evaluation:' } as const;

const fmt = (v: number | null, digits = 3) => (v === null ? '-' : v.toFixed(digits));

/**
 * Training progress for a terminal: a bar with loss and ETA redrawn in place on a TTY, one plain line
 * per epoch otherwise (logs, CI). ETA = remaining batches x mean time per batch so far.
 */
export function progressHook(io: CliIo, clock: () => number = () => performance.now()): TrainingHooks {
  let phaseLine = 0;
  let phaseStarted: string | undefined;
  let start = 0;
  let batchesDone = 0;
  let firstEpoch = 0;
  let lastDraw = 0;
  return {
    // Phases before and between epochs (decoding, validation, test) can take tens of seconds: a line
    // when each begins (validation, which comes every epoch, only its end), every 2 s between, and at
    // its end; redrawn in place on a TTY.
    onPhase: ({ phase, done, total }) => {
      const now = clock();
      const ends = done === total;
      const text = `${PHASE_WORDS[phase]} ${done}/${total} slices`;
      if (io.interactive && !ends) {
        process.stderr.write(`\r\x1b[K${text}`);
        return;
      }
      if (io.interactive) process.stderr.write('\r\x1b[K');
      const first = phaseStarted !== phase;
      if (first) {
        phaseStarted = phase;
        phaseLine = now;
        if (phase === 'validation' && !ends) return;
      } else if (!ends && now - phaseLine < 2000) return;
      phaseLine = now;
      if (ends) phaseStarted = undefined;
      io.err(text);
    },
    onTrainBegin: (context) => {
      start = clock();
      firstEpoch = context.state.epoch;
      io.err(`training ${context.config.model.name} on ${context.record.split.train.length} slices (val ${context.record.split.val.length}, test ${context.record.split.test.length}), ${context.config.size} px, batch ${context.config.batch}, backend ${context.record.backend.name}`);
      if (firstEpoch > 0) io.err(`resuming after epoch ${firstEpoch}`);
    },
    onBatchEnd: (log, context) => {
      batchesDone++;
      if (!io.interactive) return;
      const now = clock();
      if (now - lastDraw < 100 && log.batch + 1 < log.batches) return;
      lastDraw = now;
      const total = (context.config.epochs - firstEpoch) * log.batches;
      const eta = ((now - start) / batchesDone) * (total - batchesDone) / 1000;
      const width = 24;
      const filled = Math.round(((log.batch + 1) / log.batches) * width);
      process.stderr.write(`\r\x1b[Kepoch ${log.epoch + 1}/${context.config.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${log.batch + 1}/${log.batches} loss ${log.loss.toFixed(4)} ETA ${duration(eta)}`);
    },
    onEpochEnd: (log, context) => {
      if (io.interactive) process.stderr.write('\r\x1b[K');
      io.err(`epoch ${log.epoch}/${context.config.epochs}  train loss ${fmt(log.trainLoss, 4)}  val loss ${fmt(log.valLoss, 4)}  val Dice ${fmt(log.valDice)}  val IoU ${fmt(log.valIou)}${context.improved ? '  *best' : ''}  (${log.seconds.toFixed(1)} s)`);
    },
  };
}

/**
 * Slice-batch progress of a volume prediction: a bar with ETA redrawn in place on a TTY, a line
 * every 10% otherwise. Returns the `onProgress` callback and `done` to clear the bar.
 */
export function sliceProgress(io: CliIo, label: string, clock: () => number = () => performance.now()): { onProgress: (p: { done: number; total: number }) => void; done: () => void } {
  const start = clock();
  let lastDecile = -1;
  return {
    onProgress: ({ done, total }) => {
      const eta = ((clock() - start) / done) * (total - done) / 1000;
      if (io.interactive) {
        const width = 24;
        const filled = Math.round((done / total) * width);
        process.stderr.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} slices ETA ${duration(eta)}`);
        return;
      }
      const decile = Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      io.err(`${label}: ${done}/${total} slices`);
    },
    done: () => {
      if (io.interactive) process.stderr.write('\r\x1b[K');
    },
  };
}
