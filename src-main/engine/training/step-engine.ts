import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendChoice, BackendInfo } from '../backend/select-backend';
import { CovsegError } from '../errors';
import type { LossOptions, SegmentationLoss } from '../losses/segmentation-losses';
import { positionDraws } from '../models/random-draws';
import { ADAM_DEFAULTS, adamStep, type AdamSettings, type AdamState } from './adam';
import { splitFlat, weightSizes, writeFlat } from './parallel/shared-weights';
import { ownShare, splitGradients, startReplicaWorker } from './replica-worker';

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
  const { x, y } = batch;
  positionDraws(model, draws.step, draws.replica);
  const shape: [number, number, number, number] = [batch.count, size, size, 1];
  const result = tf.tidy(() => {
    const input = tf.tensor4d(x, shape);
    const target = tf.tensor4d(y, [batch.count, size, size, y.length / x.length]);
    return tf.variableGrads(() => loss(model.apply(input, { training: true }) as tf.Tensor4D, target), variables);
  });
  // Read outside tidy: tidy scans whatever it returns for tensors, element by element for typed arrays.
  const value = (await result.value.data())[0]!;
  const gradients = (await Promise.all(variables.map((v) => result.grads[v.name]!.data()))) as Float32Array[];
  tf.dispose([result.value, ...Object.values(result.grads)]);
  return { value, gradients };
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
 * Data-parallel over two threads (see splitGradients): this thread and one worker each compute the
 * gradient of half the batch, averaged by sample counts. One Adam step follows, and the new weights
 * go to the worker through shared memory, so both replicas stay identical. Batch norm sees
 * per-replica batch statistics (as DDP without SyncBN); its moving averages are averaged.
 */
export async function parallelStepEngine(
  model: tfl.LayersModel,
  optimizer: AdamState,
  size: number,
  loss: SegmentationLoss,
  setup: { backend: BackendChoice; loss: string; lossOptions: LossOptions; adam?: AdamSettings },
): Promise<StepEngine> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stateVariables = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const trainableSizes = weightSizes(model.trainableWeights);
  const stateSizes = weightSizes(model.nonTrainableWeights);
  const trainableTotal = trainableSizes.reduce((a, b) => a + b, 0);
  const stateTotal = stateSizes.reduce((a, b) => a + b, 0);
  const replica = await startReplicaWorker(
    setup.backend,
    { kind: 'layers', topology: JSON.stringify(model.toJSON(null, false)), loss: setup.loss, lossOptions: setup.lossOptions, size },
    { weights: trainableTotal + stateTotal, gradients: trainableTotal, state: stateTotal },
  );
  const weights = variables.map((v) => (v.dataSync() as Float32Array).slice());
  const publish = () => writeFlat(replica.weights, [...variables, ...stateVariables]);
  publish();
  const workerState = splitFlat(replica.state, stateSizes);

  return {
    workers: 2,
    step: async (batch, learningRate) => {
      const plane = size * size;
      const ownCount = ownShare(batch.count);
      const own = rows(batch, 0, ownCount, plane);
      const theirs = rows(batch, ownCount, batch.count, plane);
      const result = await splitGradients(
        replica,
        {
          count: own.count,
          compute: async () => {
            const mine = await gradientsOf(model, variables, size, own, loss, { step: optimizer.step, replica: 0 });
            return { values: [mine.value], gradients: mine.gradients };
          },
        },
        { count: theirs.count, work: () => ({ kind: 'layers', x: theirs.x, y: theirs.y, count: theirs.count, draws: { step: optimizer.step, replica: 1 } }) },
        trainableSizes,
      );
      let stateValues: Float32Array[] | undefined;
      if (result.remote) {
        stateValues = stateVariables.map((v, k) => {
          const ownValues = (v.dataSync() as Float32Array).slice();
          const other = workerState[k]!;
          for (let i = 0; i < ownValues.length; i++) ownValues[i] = 0.5 * (ownValues[i]! + other[i]!);
          return ownValues;
        });
        assign(stateVariables, stateValues);
      }
      adamStep(weights, result.gradients, optimizer, learningRate, setup.adam);
      assign(variables, weights);
      // From the arrays just assigned rather than read back out of tfjs: one copy fewer per step.
      if (stateValues) writeFlat(replica.weights, [...weights, ...stateValues]);
      else publish();
      return result.values[0]!;
    },
    dispose: () => replica.close(),
  };
}
