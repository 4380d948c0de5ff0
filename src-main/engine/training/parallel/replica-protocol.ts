import type { BackendChoice } from '../../backend/select-backend';
import type { LossOptions } from '../../losses/segmentation-losses';
import type { AdamSettings } from '../adam';
import type { SharedTrainingMemory } from './shared-training';

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
      memory: SharedTrainingMemory;
      adam: AdamSettings;
      /** The flat range of trainable values whose Adam update this replica computes. */
      range: [number, number];
    }
  /** Half a batch: inputs and targets `[count, size, size, 1]`. */
  /** `draws`: which random masks this step's seeded dropout draws (see positionDraws). */
  | { type: 'step'; x: Float32Array; y: Float32Array; count: number; draws: { step: number; replica: number } }
  /** Adam step number `step` on this replica's range, the gradient being the two replicas' mean weighted by `share`. */
  | { type: 'update'; step: number; learningRate: number; share: [number, number] }
  | { type: 'close' };

export type FromReplica = { type: 'ready' } | { type: 'stepped'; loss: number } | { type: 'updated' } | { type: 'error'; message: string };
