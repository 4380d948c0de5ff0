import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendChoice, BackendInfo } from '../backend/select-backend';
import { CovsegError } from '../errors';
import type { LossOptions, SegmentationLoss } from '../losses/segmentation-losses';
import { positionDraws } from '../models/random-draws';
import { ADAM_DEFAULTS, adamStep, adamStepRange, type AdamSettings, type AdamState } from './adam';
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

/** Rows `[from, to)` of a batch, copied (they may be transferred to a worker). */
function rows(batch: Batch, from: number, to: number, plane: number): Batch {
  const channels = batch.y.length / batch.x.length;
  return { x: batch.x.slice(from * plane, to * plane), y: batch.y.slice(from * plane * channels, to * plane * channels), count: to - from };
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
 * memory), straight from the backend's buffers where it can; resolves to the loss.
 */
export async function gradientsInto(
  target: Float32Array,
  model: tfl.LayersModel,
  variables: tf.Variable[],
  size: number,
  batch: Batch,
  loss: SegmentationLoss,
  draws: { step: number; replica: number },
): Promise<number> {
  const result = lossAndGradients(model, variables, size, batch, loss, draws);
  const value = (await result.value.data())[0]!;
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
 * Data-parallel over two threads (Li et al. 2020, PyTorch DDP's scheme) on a replica worker
 * (replica-worker.ts, the machinery GANs train on too): this thread and the worker each compute the
 * gradient of half the batch into shared memory. The Adam step on their mean (weighted by sample
 * counts: the full batch's gradient up to float rounding) is sharded as ZeRO-1 does (Rajbhandari
 * et al. 2020): each thread updates part of the weights and moments in shared memory at once, so
 * the part of a step that runs on one thread alone shrinks to part of an Adam step and the weight
 * assignment. Both replicas load the same new weights, so they stay identical. Batch norm sees
 * per-replica batch statistics (as DDP without SyncBN); its moving averages are averaged.
 */
export async function parallelStepEngine(
  model: tfl.LayersModel,
  optimizer: AdamState,
  size: number,
  loss: SegmentationLoss,
  setup: { backend: BackendChoice; loss: string; lossOptions: LossOptions; adam?: AdamSettings },
): Promise<StepEngine> {
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
  // The moments move into shared memory; the optimizer state keeps views of them, so checkpoints
  // read the current values.
  writeFlat(flat.m, optimizer.m);
  writeFlat(flat.v, optimizer.v);
  splitFlat(flat.m, trainableSizes).forEach((view, k) => (optimizer.m[k] = view));
  splitFlat(flat.v, trainableSizes).forEach((view, k) => (optimizer.v[k] = view));
  const ownState = new Float32Array(sharedWeights.buffer, 4 * trainableTotal, stateTotal);
  const workerState = new Float32Array(memory.state, 0, stateTotal);
  // This thread also assigns the weights and averages batch-norm statistics while the worker is
  // idle, so the worker takes the larger share of Adam.
  const split = Math.floor(trainableTotal * 0.45);
  const replica = await startReplicaWorker(
    setup.backend,
    { kind: 'layers', topology: JSON.stringify(model.toJSON(null, false)), loss: setup.loss, lossOptions: setup.lossOptions, size },
    memory,
    { settings: adam, range: [split, trainableTotal] },
  );

  return {
    workers: 2,
    step: async (batch, learningRate) => {
      const plane = size * size;
      const ownCount = ownShare(batch.count);
      const own = rows(batch, 0, ownCount, plane);
      const theirs = rows(batch, ownCount, batch.count, plane);
      // The rows are fresh copies: moved to the worker, not cloned again.
      const reply = theirs.count > 0 ? replica.step({ kind: 'layers', x: theirs.x, y: theirs.y, count: theirs.count, draws: { step: optimizer.step, replica: 1 } }, [theirs.x.buffer as ArrayBuffer, theirs.y.buffer as ArrayBuffer]) : undefined;
      let value = await gradientsInto(flat.gradients[0], model, variables, size, own, loss, { step: optimizer.step, replica: 0 });
      const step = optimizer.step + 1;
      if (reply) {
        const theirLoss = (await reply)[0] ?? NaN;
        const share: [number, number] = [own.count / batch.count, theirs.count / batch.count];
        value = share[0] * value + share[1] * theirLoss;
        const updated = replica.update(step, learningRate, share);
        adamStepRange(flat, 0, split, step, learningRate, share, adam);
        writeFlat(ownState, stateVariables);
        for (let i = 0; i < stateTotal; i++) ownState[i] = 0.5 * (ownState[i]! + workerState[i]!);
        await updated;
      } else {
        // A one-sample batch: this replica's gradient alone, the whole update here.
        adamStepRange({ ...flat, gradients: [flat.gradients[0], flat.gradients[0]] }, 0, trainableTotal, step, learningRate, [1, 0], adam);
        writeFlat(ownState, stateVariables);
      }
      optimizer.step = step;
      readWeightsFrom(sharedWeights, model);
      return value;
    },
    dispose: () => replica.close(),
  };
}
