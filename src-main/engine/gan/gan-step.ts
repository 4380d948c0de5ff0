import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../backend/select-backend';
import { adamStep, createAdamState, type AdamSettings, type AdamState } from '../training/adam';
import { sharedTrainingMemory } from '../training/parallel/shared-training';
import { writeFlat } from '../training/parallel/shared-weights';
import { ownShare, splitGradients, startReplicaWorker, type Gradients } from '../training/replica-worker';
import type { GanNetworks, NetworkOptions } from './gan-networks';
import { bceFromLogits, powerIterate, type Net } from './network/ops';

/** A training batch: real images `[b, s, s, 1]` in -1..1, their condition planes, and DAGAN's reference images. */
export interface GanBatch {
  count: number;
  size: number;
  planes: number;
  image: Float32Array<ArrayBufferLike>;
  condition: Float32Array<ArrayBufferLike>;
  reference?: Float32Array<ArrayBufferLike>;
}

/** Rows of a batch; `firstSample` is the first row's index in the whole batch (its noise depends on it). */
export interface GanPart extends GanBatch {
  firstSample: number;
}

/** The two halves of an alternating GAN step: the discriminator's, then the generator's. */
export type GanPhase = 'd' | 'g';

export interface GanStepLosses {
  /** Generator loss: adversarial + l1Weight x L1. */
  gLoss: number;
  /** Discriminator loss: mean of the real and fake BCE. */
  dLoss: number;
  /** Mean absolute difference between generated and real images (-1..1 scale). */
  l1: number;
}

/** pix2pix's Adam: learning rate 2e-4, beta1 0.5. */
export const GAN_ADAM: AdamSettings = { beta1: 0.5, beta2: 0.999, epsilon: 1e-8 };

/** Adam moments and a JavaScript copy of the weights of one network (the update runs on the arrays, as the trainer's does). */
export interface NetOptimizer {
  /** Trainable weight names, in the network's store order. */
  names: string[];
  weights: Float32Array[];
  adam: AdamState;
}

export function netOptimizer(net: Net, adam?: AdamState): NetOptimizer {
  const names = [...net.store.trainable.keys()];
  const weights = names.map((n) => (net.store.trainable.get(n)!.dataSync() as Float32Array).slice());
  return { names, weights, adam: adam ?? createAdamState(weights.map((w) => w.length)) };
}

function applyGradients(net: Net, optimizer: NetOptimizer, gradients: Float32Array[], lr: number): void {
  adamStep(optimizer.weights, gradients, optimizer.adam, lr, GAN_ADAM);
  const variables = optimizer.names.map((n) => net.store.trainable.get(n)!);
  tf.tidy(() => variables.forEach((v, k) => v.assign(tf.tensor(optimizer.weights[k]!, v.shape))));
}

/** Every value a replica of `nets` loads, in one fixed order: generator then discriminator weights, then their state (spectral-norm vectors). */
export function ganWeightOrder(nets: GanNetworks): tf.Variable[] {
  return [...nets.g.store.trainable.values(), ...nets.d.store.trainable.values(), ...nets.g.store.state.values(), ...nets.d.store.state.values()];
}

/**
 * The gradient of one phase's loss on rows of a batch, for the phase network's trainable weights in
 * store order. `d`: the discriminator learns real vs generated patches, 0.5 x (BCE(real, 1) +
 * BCE(fake, 0)); values `[dLoss]`. `g`: the generator learns to fool it (non-saturating BCE) plus
 * `l1Weight` x L1 to the real image; values `[gLoss, l1]`. Both losses are means over samples, so
 * the halves of a batch average (weighted by rows) to the whole batch's. `seed` fixes the
 * generator's noise: the `d` phase generates with `seed`, the `g` phase with `seed + 1`.
 */
export async function phaseGradients(nets: GanNetworks, phase: GanPhase, part: GanPart, seed: number): Promise<Gradients> {
  const { count: b, size: s, planes } = part;
  const net = phase === 'd' ? nets.d : nets.g;
  const variables = [...net.store.trainable.values()];
  // The L1 figure is made inside the gradient's own scope: kept there, read and disposed below.
  const kept: { l1?: tf.Scalar } = {};
  const result = tf.tidy(() => {
    const condition = tf.tensor4d(part.condition, [b, s, s, planes]);
    const real = tf.tensor4d(part.image, [b, s, s, 1]);
    const reference = part.reference ? tf.tensor4d(part.reference, [b, s, s, 1]) : undefined;
    if (phase === 'd') {
      // Generated outside the gradient: the discriminator's step leaves the generator alone.
      const fake = nets.generate(condition, reference, seed, part.firstSample);
      return tf.variableGrads(
        () => tf.mul(tf.add(bceFromLogits(nets.discriminate(condition, reference, real), 1), bceFromLogits(nets.discriminate(condition, reference, fake), 0)), 0.5) as tf.Scalar,
        variables,
      );
    }
    return tf.variableGrads(() => {
      const generated = nets.generate(condition, reference, seed + 1, part.firstSample);
      const adversarial = bceFromLogits(nets.discriminate(condition, reference, generated), 1);
      const distance = tf.mean(tf.abs(tf.sub(generated, real))) as tf.Scalar;
      kept.l1 = tf.keep(distance);
      return (nets.l1Weight > 0 ? tf.add(adversarial, tf.mul(distance, nets.l1Weight)) : adversarial) as tf.Scalar;
    }, variables);
  });
  // Read outside tidy, asynchronously (as the segmentation trainer's gradientsOf).
  const values = [(await result.value.data())[0]!, ...(kept.l1 ? [(await kept.l1.data())[0]!] : [])];
  const gradients = (await Promise.all(variables.map((v) => result.grads[v.name]!.data()))) as Float32Array[];
  tf.dispose([result.value, ...Object.values(result.grads), ...(kept.l1 ? [kept.l1] : [])]);
  return { values, gradients };
}

/** Takes alternating GAN steps on batches; the gradients come from one thread or from two. */
export interface GanStepEngine {
  readonly workers: number;
  step(batch: GanBatch, lr: number, seed: number): Promise<GanStepLosses>;
  dispose(): Promise<void>;
}

/**
 * One alternating GAN step (Goodfellow et al. 2014 as pix2pix trains it): one power iteration for a
 * spectrally normalised discriminator, the discriminator's gradient and Adam step, then the
 * generator's gradient (against the updated discriminator) and Adam step. `gradients` computes a
 * phase's gradient over the whole batch, on one thread or split over two.
 */
function alternatingEngine(nets: GanNetworks, optimizers: { g: NetOptimizer; d: NetOptimizer }, workers: number, gradients: (phase: GanPhase, batch: GanBatch, seed: number) => Promise<Gradients>, dispose: () => Promise<void>): GanStepEngine {
  return {
    workers,
    step: async (batch, lr, seed) => {
      if (nets.d.spectral) powerIterate(nets.d);
      const d = await gradients('d', batch, seed);
      applyGradients(nets.d, optimizers.d, d.gradients, lr);
      const g = await gradients('g', batch, seed);
      applyGradients(nets.g, optimizers.g, g.gradients, lr);
      return { dLoss: d.values[0]!, gLoss: g.values[0]!, l1: g.values[1]! };
    },
    dispose,
  };
}

/** Everything on this thread. */
export function singleGanStepEngine(nets: GanNetworks, optimizers: { g: NetOptimizer; d: NetOptimizer }): GanStepEngine {
  return alternatingEngine(nets, optimizers, 1, (phase, batch, seed) => phaseGradients(nets, phase, { ...batch, firstSample: 0 }, seed), async () => {});
}

/** Rows `[from, to)` of a batch, copied (they are posted to a worker). */
function ganRows(batch: GanBatch, from: number, to: number): GanPart {
  const plane = batch.size * batch.size;
  const part: GanPart = {
    count: to - from,
    size: batch.size,
    planes: batch.planes,
    firstSample: from,
    image: batch.image.slice(from * plane, to * plane),
    condition: batch.condition.slice(from * plane * batch.planes, to * plane * batch.planes),
  };
  if (batch.reference) part.reference = batch.reference.slice(from * plane, to * plane);
  return part;
}

/**
 * Data-parallel GAN steps over two threads, on the segmentation trainer's machinery
 * (`training/replica-worker.ts`): before each phase the current weights of both networks (and the
 * spectral-norm vectors, after this step's power iteration) go to the worker's replica through
 * shared memory; each thread computes the phase's gradient on half the batch; the halves are
 * averaged by sample counts and one Adam step here updates the network, the same for both replicas.
 * Instance norm is per sample and the noise is drawn per sample, so this equals single-threaded
 * training up to float rounding. `networks` are the options `nets` were built with.
 */
export async function parallelGanStepEngine(nets: GanNetworks, optimizers: { g: NetOptimizer; d: NetOptimizer }, setup: { backend: BackendChoice; networks: NetworkOptions }): Promise<GanStepEngine> {
  const state = [...nets.g.store.state.values(), ...nets.d.store.state.values()];
  const total = (arrays: Float32Array[]) => arrays.reduce((n, a) => n + a.length, 0);
  const sizes = { g: optimizers.g.weights.map((w) => w.length), d: optimizers.d.weights.map((w) => w.length) };
  // Trainable values of both networks, then their state (ganWeightOrder); each phase's gradient
  // fills the front of the replica's gradient array. Adam stays on this thread (not sharded).
  const trainable = total(optimizers.g.weights) + total(optimizers.d.weights);
  const memory = sharedTrainingMemory(trainable, state.reduce((n, v) => n + v.size, 0), false);
  const replica = await startReplicaWorker(setup.backend, { kind: 'gan', networks: setup.networks }, memory);
  // The optimizers' arrays hold the weights just assigned (store order, as ganWeightOrder): one copy fewer than reading tfjs.
  const publish = () => writeFlat(replica.weights, [...optimizers.g.weights, ...optimizers.d.weights, ...state]);
  return alternatingEngine(
    nets,
    optimizers,
    2,
    (phase, batch, seed) => {
      publish();
      const ownCount = ownShare(batch.count);
      const own = ganRows(batch, 0, ownCount);
      const theirs = ganRows(batch, ownCount, batch.count);
      return splitGradients(
        replica,
        { count: own.count, compute: () => phaseGradients(nets, phase, own, seed) },
        { count: theirs.count, work: () => ({ kind: 'gan', phase, part: theirs, seed }) },
        phase === 'd' ? sizes.d : sizes.g,
      );
    },
    () => replica.close(),
  );
}
