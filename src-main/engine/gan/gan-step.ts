import * as tf from '@tensorflow/tfjs-core';
import { adamStep, createAdamState, type AdamSettings, type AdamState } from '../training/adam';
import type { GanNetworks } from './gan-networks';
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
  names: string[];
  weights: Float32Array[];
  adam: AdamState;
}

export function netOptimizer(net: Net, adam?: AdamState): NetOptimizer {
  const names = [...net.store.trainable.keys()];
  const weights = names.map((n) => (net.store.trainable.get(n)!.dataSync() as Float32Array).slice());
  return { names, weights, adam: adam ?? createAdamState(weights.map((w) => w.length)) };
}

function applyGradients(net: Net, optimizer: NetOptimizer, grads: tf.NamedTensorMap, lr: number): void {
  const variables = optimizer.names.map((n) => net.store.trainable.get(n)!);
  const gradients = variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
  adamStep(optimizer.weights, gradients, optimizer.adam, lr, GAN_ADAM);
  tf.tidy(() => variables.forEach((v, k) => v.assign(tf.tensor(optimizer.weights[k]!, v.shape))));
}

/**
 * One alternating GAN step (Goodfellow et al. 2014 as pix2pix trains it): the discriminator learns
 * real vs generated patches, then the generator learns to fool it (non-saturating BCE) plus
 * `l1Weight` x L1 to the real image. `seed` fixes the generator's noise for this step.
 */
export function ganStep(nets: GanNetworks, batch: GanBatch, optimizers: { g: NetOptimizer; d: NetOptimizer }, lr: number, seed: number): GanStepLosses {
  const { count: b, size: s, planes } = batch;
  if (nets.d.spectral) powerIterate(nets.d);
  const condition = tf.tensor4d(batch.condition, [b, s, s, planes]);
  const real = tf.tensor4d(batch.image, [b, s, s, 1]);
  const reference = batch.reference ? tf.tensor4d(batch.reference, [b, s, s, 1]) : undefined;
  try {
    const fake = tf.tidy(() => nets.generate(condition, reference, seed));
    const dVars = [...nets.d.store.trainable.values()];
    const dResult = tf.variableGrads(
      () => tf.mul(tf.add(bceFromLogits(nets.discriminate(condition, reference, real), 1), bceFromLogits(nets.discriminate(condition, reference, fake), 0)), 0.5) as tf.Scalar,
      dVars,
    );
    fake.dispose();
    const dLoss = dResult.value.dataSync()[0]!;
    applyGradients(nets.d, optimizers.d, dResult.grads, lr);
    tf.dispose([dResult.value, ...Object.values(dResult.grads)]);

    let l1Value = 0;
    const gVars = [...nets.g.store.trainable.values()];
    const gResult = tf.variableGrads(() => {
      const generated = nets.generate(condition, reference, seed + 1);
      const adversarial = bceFromLogits(nets.discriminate(condition, reference, generated), 1);
      const l1 = tf.mean(tf.abs(tf.sub(generated, real)));
      l1Value = l1.dataSync()[0]!;
      return (nets.l1Weight > 0 ? tf.add(adversarial, tf.mul(l1, nets.l1Weight)) : adversarial) as tf.Scalar;
    }, gVars);
    const gLoss = gResult.value.dataSync()[0]!;
    applyGradients(nets.g, optimizers.g, gResult.grads, lr);
    tf.dispose([gResult.value, ...Object.values(gResult.grads)]);
    return { gLoss, dLoss, l1: l1Value };
  } finally {
    tf.dispose([condition, real, ...(reference ? [reference] : [])]);
  }
}
