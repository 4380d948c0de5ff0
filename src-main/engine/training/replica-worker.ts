import type { BackendChoice } from '../backend/select-backend';
import { startWorker } from '../concurrency/start-worker';
import type { PhaseMark } from '../concurrency/thread-clock';
import type { AdamSettings } from './adam';
import type { FromReplica, ReplicaSetup, ReplicaWork, ToReplica } from './parallel/replica-protocol';
import type { SharedTrainingMemory } from './parallel/shared-training';

/** Loss figures and one gradient array per trained weight, of one batch or part of one. */
export interface Gradients {
  values: number[];
  gradients: Float32Array[];
}

/**
 * The trainer's end of one gradient replica (a worker thread running `parallel/gradient-replica`):
 * shared memory and one request at a time. Any model kind the worker knows (`ReplicaSetup`)
 * trains through it: segmentation models and GANs share this machinery.
 */
export interface ReplicaWorker {
  /** Shared, written by the trainer before each step: everything the replica loads (trainable, then state). */
  readonly weights: Float32Array;
  /** Shared, written by the replica: the gradients of its last step, flat, in the order of the weights it trained. */
  readonly gradients: Float32Array;
  /** Shared, written by the replica: its non-trainable weights after its last step (batch-norm statistics). */
  readonly state: Float32Array;
  /**
   * Runs one piece of work on the replica; resolves to its loss figures once its gradients are in
   * `gradients`. `transfer`: buffers of the work's arrays to move to the worker instead of cloning
   * (the caller must not touch them afterwards).
   */
  step(work: ReplicaWork, transfer?: ArrayBuffer[]): Promise<number[]>;
  /** Sharded Adam only: the replica applies Adam step `step` to its range of the shared weights and moments. */
  update(step: number, learningRate: number, share: [number, number]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a replica worker on `backend`, builds its copy of the model(s) from `setup` on `memory`
 * and waits until it is ready. `adam`: the replica also applies Adam to `range` of the trainable
 * values on `update` (the memory must have been made with shared moments). `trace`: receives the
 * worker's phase marks (bench/step-timeline.ts).
 */
export async function startReplicaWorker(
  backend: BackendChoice,
  setup: ReplicaSetup,
  memory: SharedTrainingMemory,
  adam?: { settings: AdamSettings; range: [number, number] },
  trace?: (marks: PhaseMark[]) => void,
): Promise<ReplicaWorker> {
  // Started from this module, in training/: the CLI bundle places the worker at the same relative path.
  const worker = startWorker('./parallel/gradient-replica', import.meta.url);
  let pending: { resolve: (m: FromReplica) => void; reject: (e: Error) => void } | undefined;
  worker.on('message', (message: FromReplica) => {
    if (message.marks) trace?.(message.marks);
    const waiting = pending;
    pending = undefined;
    if (message.type === 'error') waiting?.reject(new Error(`training worker failed: ${message.message}`));
    else waiting?.resolve(message);
  });
  worker.on('error', (error) => {
    pending?.reject(error);
    pending = undefined;
  });
  const request = (message: ToReplica, transfer: ArrayBuffer[] = []) =>
    new Promise<FromReplica>((resolve, reject) => {
      pending = { resolve, reject };
      worker.postMessage(message, transfer);
    });
  try {
    await request({ type: 'init', backend, setup, memory, ...(adam ? { adam } : {}), ...(trace ? { trace: true } : {}) });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    weights: new Float32Array(memory.weights),
    gradients: new Float32Array(memory.gradients[1], 0, memory.trainable),
    state: new Float32Array(memory.state),
    step: async (work, transfer) => {
      const answer = await request({ type: 'step', work }, transfer);
      return answer.type === 'stepped' ? answer.values : [];
    },
    update: async (step, learningRate, share) => {
      await request({ type: 'update', step, learningRate, share });
    },
    close: async () => {
      worker.postMessage({ type: 'close' } satisfies ToReplica);
      await worker.terminate();
    },
  };
}

/** Rows of a batch this thread keeps; the replica takes the rest. */
export const ownShare = (count: number): number => Math.ceil(count / 2);

/**
 * The data-parallel gradient of one batch (Li et al. 2020, PyTorch DDP's scheme): the replica
 * computes its rows while this thread computes its own; gradients and loss figures are averaged,
 * weighted by sample counts, which for losses that are means over samples is the whole batch's up
 * to float rounding. The replica's work is posted before the local computation starts, so both run
 * at once. `sizes` splits the replica's flat gradients per weight; the average lands in the local
 * arrays. `remote` says whether the replica took part (a one-row batch stays here). GANs use this
 * exchange, their Adam then running on this thread; segmentation instead shards Adam between the
 * threads on shared memory (step-engine.ts's parallelStepEngine).
 */
export async function splitGradients(
  replica: ReplicaWorker,
  own: { count: number; compute: () => Promise<Gradients> },
  theirs: { count: number; work: () => ReplicaWork },
  sizes: readonly number[],
): Promise<Gradients & { remote: boolean }> {
  const reply = theirs.count > 0 ? replica.step(theirs.work()) : undefined;
  const mine = await own.compute();
  if (!reply) return { ...mine, remote: false };
  const theirValues = await reply;
  const total = own.count + theirs.count;
  const a = own.count / total;
  const b = theirs.count / total;
  let offset = 0;
  mine.gradients.forEach((g, k) => {
    const h = replica.gradients.subarray(offset, offset + sizes[k]!);
    for (let i = 0; i < g.length; i++) g[i] = a * g[i]! + b * h[i]!;
    offset += sizes[k]!;
  });
  return { values: mine.values.map((v, k) => a * v + b * (theirValues[k] ?? NaN)), gradients: mine.gradients, remote: true };
}
