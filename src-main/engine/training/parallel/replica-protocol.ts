import type { BackendChoice } from '../../backend/select-backend';
import type { LossOptions } from '../../losses/segmentation-losses';

/** Messages between the trainer (replica 0) and a gradient replica worker. */
export type ToReplica =
  | {
      type: 'init';
      backend: BackendChoice;
      /** Model topology (`model.toJSON()`), rebuilt in the worker. */
      topology: string;
      loss: string;
      lossOptions: LossOptions;
      size: number;
      /** Shared: trainable then non-trainable weights, written by the trainer after each update. */
      weights: SharedArrayBuffer;
      /** Shared: this replica's gradients, written after each step. */
      gradients: SharedArrayBuffer;
      /** Shared: this replica's non-trainable weights (batch-norm moving statistics) after each step. */
      state: SharedArrayBuffer;
    }
  /** Half a batch: inputs and targets `[count, size, size, 1]`. */
  /** `draws`: which random masks this step's seeded dropout draws (see positionDraws). */
  | { type: 'step'; x: Float32Array; y: Float32Array; count: number; draws: { step: number; replica: number } }
  | { type: 'close' };

export type FromReplica = { type: 'ready' } | { type: 'stepped'; loss: number } | { type: 'error'; message: string };
