import type { BackendChoice } from '../../backend/select-backend';
import type { GanPart, GanPhase } from '../../gan/gan-step';
import type { NetworkOptions } from '../../gan/gan-networks';
import type { LossOptions } from '../../losses/segmentation-losses';
import type { PhaseMark } from '../../concurrency/thread-clock';
import type { AdamSettings } from '../adam';
import type { SharedTrainingMemory } from './shared-training';

/**
 * What a gradient replica is a copy of. `layers`: a segmentation model (tfjs-layers) and its loss.
 * `gan`: a GAN's generator and discriminator, built from the same options (and seed) as the trainer's.
 */
export type ReplicaSetup =
  | {
      kind: 'layers';
      /** Model topology (`model.toJSON()`), rebuilt in the worker. */
      topology: string;
      loss: string;
      lossOptions: LossOptions;
      size: number;
    }
  | { kind: 'gan'; networks: NetworkOptions };

/**
 * One gradient computation on the replica's rows of a batch. `layers`: inputs and targets
 * `[count, size, size, C]`; `draws` says which random masks this step's seeded dropout draws (see
 * positionDraws). `gan`: one phase of an alternating GAN step on rows `firstSample...` of the batch.
 */
export type ReplicaWork =
  | { kind: 'layers'; x: Float32Array; y: Float32Array; count: number; draws: { step: number; replica: number } }
  | { kind: 'gan'; phase: GanPhase; part: GanPart; seed: number };

/** Messages between the trainer (replica 0) and a gradient replica worker. */
export type ToReplica =
  | {
      type: 'init';
      backend: BackendChoice;
      setup: ReplicaSetup;
      /**
       * Shared: the weights the replica loads before each step (trainable then non-trainable),
       * written by the trainer; its gradients and non-trainable weights, written after each step;
       * with `adam`, the moments and the trainer's gradient too.
       */
      memory: SharedTrainingMemory;
      /** Sharded Adam (segmentation): the settings and the flat range of trainable values this replica updates. */
      adam?: { settings: AdamSettings; range: [number, number] };
      /** Time the phases of each request (bench/step-timeline.ts); the marks come back with the replies. */
      trace?: boolean;
    }
  | { type: 'step'; work: ReplicaWork }
  /**
   * Adam step number `step` on this replica's range, the gradient being the two replicas' mean
   * weighted by `share`. The replica answers as soon as its range is done, then (segmentation) waits
   * until the trainer has published step `step` (`published`) and loads the new weights, while
   * the trainer loads them too.
   */
  | { type: 'update'; step: number; learningRate: number; share: [number, number] }
  | { type: 'close' };

/**
 * `values`: the step's loss figures (layers: the loss; gan: the phase's losses). `marks`: with
 * `trace`, the phases the worker went through since its previous answer.
 */
export type FromReplica = ({ type: 'ready' } | { type: 'stepped'; values: number[] } | { type: 'updated' } | { type: 'error'; message: string }) & { marks?: PhaseMark[] };

/** The shared arrays of one replica, as its worker sees them. */
export interface ReplicaBuffers {
  weights: Float32Array;
  /** This replica's gradients. */
  gradients: Float32Array;
  state: Float32Array;
  /** `[0]`: the Adam step whose update the trainer has finished writing into `weights` (see SharedTrainingMemory.published). */
  published: Int32Array;
}

/** A replica inside its worker: loads the shared weights, computes its gradients into shared memory, returns the loss figures. */
export interface GradientReplica {
  step(work: ReplicaWork): Promise<number[]>;
  /** Sharded Adam: called once this replica's range of step `step` is done and answered; loads the new weights as soon as the trainer has published them. */
  afterUpdate?(step: number): void;
  dispose(): void;
}

/** Marks the start of a phase of the current request (tracing), or does nothing. */
export type MarkPhase = (phase: string) => void;
