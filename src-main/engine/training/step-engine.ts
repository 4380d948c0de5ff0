import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendChoice, BackendInfo } from '../backend/select-backend';
import { threadMoment, type PhaseMark } from '../concurrency/thread-clock';
import { CovsegError } from '../errors';
import type { LossOptions, SegmentationLoss } from '../losses/segmentation-losses';
import { positionDraws } from '../models/random-draws';
import { ADAM_DEFAULTS, adamStep, adamStepRange, type AdamSettings, type AdamState } from './adam';
import type { MarkPhase } from './parallel/replica-protocol';
import { flatAdamArrays, sharedTrainingMemory } from './parallel/shared-training';
import { readWeightsFrom, splitFlat, weightSizes, writeFlat } from './parallel/shared-weights';
import { ownShare, startReplicaWorker } from './replica-worker';

/**
 * A training batch: inputs `[count, size, size, 1]` scaled 0..1 and targets `[count, size, size, C]`
 * (0..1; C = 1 for the binary task, one-hot over the classes otherwise).
 */
export interface Batch {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

/** Takes one optimisation step on a batch; resolves to its loss. */
export interface StepEngine {
  readonly workers: number;
  step(batch: Batch, learningRate: number): Promise<number>;
  dispose(): Promise<void>;
}

/** Rows `[from, to)` of a batch: views, or with `copy` fresh arrays (to transfer to a worker). */
function rows(batch: Batch, from: number, to: number, plane: number, copy: boolean): Batch {
  const channels = batch.y.length / batch.x.length;
  const part = (a: Float32Array, start: number, end: number) => (copy ? a.slice(start, end) : a.subarray(start, end));
  return { x: part(batch.x, from * plane, to * plane), y: part(batch.y, from * plane * channels, to * plane * channels), count: to - from };
}

/**
 * How many replicas train in parallel: `requested` when > 0; otherwise both cores for the
 * single-threaded backends (wasm, cpu), 1 for TensorFlow native, which threads by itself, and
 * always 1 for webgpu.
 */
export function resolveWorkers(requested: number, backend: BackendInfo): number {
  // One GPU holds one replica: a second one would share the device and only add copies.
  if (backend.name === 'webgpu') {
    if (requested > 1) throw new CovsegError('bad-parameter', `--workers ${requested} cannot be used with the webgpu backend: one GPU runs one replica`, { fix: 'leave --workers at 0 (auto) or 1' });
    return 1;
  }
  if (requested > 0) return requested;
  return backend.name === 'tensorflow' ? 1 : Math.max(1, Math.min(2, availableParallelism()));
}

/** The loss tensor and each variable's gradient tensor on a batch; the caller disposes them. */
function lossAndGradients(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  size: number,
  batch: Batch,
  loss: SegmentationLoss,
  draws: { step: number; replica: number },
): { value: tf.Scalar; grads: tf.Tensor[] } {
  const { x, y } = batch;
  positionDraws(model, draws.step, draws.replica);
  const shape: [number, number, number, number] = [batch.count, size, size, 1];
  const result = tf.tidy(() => {
    const input = tf.tensor4d(x, shape);
    const target = tf.tensor4d(y, [batch.count, size, size, y.length / x.length]);
    return tf.variableGrads(() => loss(model.apply(input, { training: true }) as tf.Tensor4D, target), variables);
  });
  return { value: result.value, grads: variables.map((v) => result.grads[v.name]!) };
}

/**
 * Gradients of `loss` on a batch, read out of tfjs as arrays (outside any tidy: see below). Read
 * asynchronously: the webgpu backend cannot read a GPU buffer synchronously in Node.
 */
export async function gradientsOf(
  model: tfl.LayersModel,
  variables: tf.Variable[],
  size: number,
  batch: Batch,
  loss: SegmentationLoss,
  draws: { step: number; replica: number },
): Promise<{ value: number; gradients: Float32Array[] }> {
  const result = lossAndGradients(model, variables, size, batch, loss, draws);
  // Read outside tidy: tidy scans whatever it returns for tensors, element by element for typed arrays.
  const value = (await result.value.data())[0]!;
  const gradients = (await Promise.all(result.grads.map((g) => g.data()))) as Float32Array[];
  tf.dispose([result.value, ...result.grads]);
  return { value, gradients };
}

/**
 * Like {@link gradientsOf}, but writes the gradients one after another into `target` (shared
 * memory), straight from the backend's buffers where it can; resolves to the loss. `mark`: phases, for tracing.
 */
export async function gradientsInto(
  target: Float32Array,
  model: tfl.LayersModel,
  variables: tf.Variable[],
  size: number,
  batch: Batch,
  loss: SegmentationLoss,
  draws: { step: number; replica: number },
  mark: MarkPhase = () => {},
): Promise<number> {
  mark('forward and backward');
  const result = lossAndGradients(model, variables, size, batch, loss, draws);
  mark('loss read');
  const value = (await result.value.data())[0]!;
  mark('gradient write');
  writeFlat(target, result.grads);
  tf.dispose([result.value, ...result.grads]);
  return value;
}

function assign(variables: tf.Variable[], values: Float32Array[]): void {
  tf.tidy(() => variables.forEach((v, k) => v.assign(tf.tensor(values[k]!, v.shape))));
}

/** Everything on this thread: gradients from tfjs, Adam in JavaScript, weights assigned back. */
export function singleStepEngine(model: tfl.LayersModel, optimizer: AdamState, size: number, loss: SegmentationLoss, settings: AdamSettings = ADAM_DEFAULTS): StepEngine {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let weights: Float32Array[] | undefined;
  return {
    workers: 1,
    step: async (batch, learningRate) => {
      weights ??= (await Promise.all(variables.map((v) => v.data()))).map((w) => (w as Float32Array).slice());
      const { value, gradients } = await gradientsOf(model, variables, size, batch, loss, { step: optimizer.step, replica: 0 });
      adamStep(weights, gradients, optimizer, learningRate, settings);
      assign(variables, weights);
      return value;
    },
    dispose: async () => {},
  };
}


/**
 * Share of the trainable values whose Adam update the trainer's thread applies (the worker takes the
 * rest). Per element both threads run the same code; around it, the trainer also averages the
 * batch-norm statistics and waits for the worker's answer, the worker answers and waits for the
 * trainer's range. bench/step-timeline.ts measures both threads' phases: see README, Speed per CPU.
 */
export const TRAINER_ADAM_SHARE = 0.5;

/** Options of {@link parallelStepEngine}. */
export interface ParallelSetup {
  backend: BackendChoice;
  loss: string;
  lossOptions: LossOptions;
  adam?: AdamSettings;
  /** Receives the phase marks of both threads, for a step timeline (bench/step-timeline.ts); off when absent. */
  trace?: (marks: PhaseMark[]) => void;
  /** Overrides {@link TRAINER_ADAM_SHARE} (benches measure the balance with it). */
  adamShare?: number;
  /**
   * Benches only: the schedule before issue #14's third round, the worker loading the new weights
   * only after this thread has loaded them (the same results; bench/step-timeline.ts measures what
   * loading at once saves).
   */
  serialLoads?: boolean;
}

/**
 * Data-parallel over two threads (Li et al. 2020, PyTorch DDP's scheme) on a replica worker
 * (replica-worker.ts, the machinery GANs train on too): this thread and the worker each compute the
 * gradient of half the batch into shared memory. The Adam step on their mean (weighted by sample
 * counts: the full batch's gradient up to float rounding) is sharded as ZeRO-1 does (Rajbhandari
 * et al. 2020): each thread updates part of the weights and moments in shared memory at once. Then
 * both replicas load the same new weights at once (the worker as soon as this thread publishes its
 * range, see SharedTrainingMemory.published), so they stay identical and neither waits for the
 * other's load. Batch norm sees per-replica batch statistics (as DDP without SyncBN); its moving
 * averages are averaged.
 */
export async function parallelStepEngine(model: tfl.LayersModel, optimizer: AdamState, size: number, loss: SegmentationLoss, setup: ParallelSetup): Promise<StepEngine> {
  const adam = setup.adam ?? ADAM_DEFAULTS;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stateVariables = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const trainableSizes = weightSizes(model.trainableWeights);
  const stateSizes = weightSizes(model.nonTrainableWeights);
  const trainableTotal = trainableSizes.reduce((a, b) => a + b, 0);
  const stateTotal = stateSizes.reduce((a, b) => a + b, 0);
  const memory = sharedTrainingMemory(trainableTotal, stateTotal);
  const flat = flatAdamArrays(memory);
  const sharedWeights = new Float32Array(memory.weights);
  writeFlat(sharedWeights, [...variables, ...stateVariables]);
  const published = new Int32Array(memory.published);
  Atomics.store(published, 0, optimizer.step);
  // The moments move into shared memory; the optimizer state keeps views of them, so checkpoints
  // read the current values.
  writeFlat(flat.m, optimizer.m);
  writeFlat(flat.v, optimizer.v);
  splitFlat(flat.m, trainableSizes).forEach((view, k) => (optimizer.m[k] = view));
  splitFlat(flat.v, trainableSizes).forEach((view, k) => (optimizer.v[k] = view));
  const ownState = new Float32Array(sharedWeights.buffer, 4 * trainableTotal, stateTotal);
  const workerState = new Float32Array(memory.state, 0, stateTotal);
  const split = Math.floor(trainableTotal * (setup.adamShare ?? TRAINER_ADAM_SHARE));
  const trace = setup.trace;
  const mark: MarkPhase = trace ? (phase) => trace([{ thread: 'main', phase, at: threadMoment() }]) : () => {};
  const replica = await startReplicaWorker(
    setup.backend,
    { kind: 'layers', topology: JSON.stringify(model.toJSON(null, false)), loss: setup.loss, lossOptions: setup.lossOptions, size },
    memory,
    { settings: adam, range: [split, trainableTotal] },
    trace,
  );
  /** Makes this thread's writes of step `step` (its range, the state) visible to the worker, which waits for them to load. */
  const publish = (step: number) => {
    Atomics.store(published, 0, step);
    Atomics.notify(published, 0);
  };

  return {
    workers: 2,
    step: async (batch, learningRate) => {
      mark('split rows');
      const plane = size * size;
      const ownCount = ownShare(batch.count);
      const own = rows(batch, 0, ownCount, plane, false);
      // Fresh copies: moved to the worker, not cloned again.
      const theirs = rows(batch, ownCount, batch.count, plane, true);
      mark('post step');
      const reply = theirs.count > 0 ? replica.step({ kind: 'layers', x: theirs.x, y: theirs.y, count: theirs.count, draws: { step: optimizer.step, replica: 1 } }, [theirs.x.buffer as ArrayBuffer, theirs.y.buffer as ArrayBuffer]) : undefined;
      let value = await gradientsInto(flat.gradients[0], model, variables, size, own, loss, { step: optimizer.step, replica: 0 }, mark);
      const step = optimizer.step + 1;
      if (reply) {
        mark('wait worker gradient');
        const theirLoss = (await reply)[0] ?? NaN;
        const share: [number, number] = [own.count / batch.count, theirs.count / batch.count];
        value = share[0] * value + share[1] * theirLoss;
        mark('post update');
        const updated = replica.update(step, learningRate, share);
        mark('state average');
        writeFlat(ownState, stateVariables);
        for (let i = 0; i < stateTotal; i++) ownState[i] = 0.5 * (ownState[i]! + workerState[i]!);
        mark('adam');
        adamStepRange(flat, 0, split, step, learningRate, share, adam);
        if (!setup.serialLoads) publish(step);
        mark('wait worker adam');
        await updated;
      } else {
        // A one-sample batch: this replica's gradient alone, the whole update here; the worker loads it before its next step.
        mark('adam');
        adamStepRange({ ...flat, gradients: [flat.gradients[0], flat.gradients[0]] }, 0, trainableTotal, step, learningRate, [1, 0], adam);
        writeFlat(ownState, stateVariables);
        publish(step);
      }
      optimizer.step = step;
      mark('load weights');
      readWeightsFrom(sharedWeights, model);
      if (reply && setup.serialLoads) publish(step);
      mark('end');
      return value;
    },
    dispose: () => replica.close(),
  };
}
