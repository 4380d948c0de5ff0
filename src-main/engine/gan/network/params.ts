import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../../random/seeded-random';

/**
 * The weights of one GAN network as named tfjs variables. Plain variables (not tfjs-layers) because
 * a GAN step needs two losses over two weight sets, and spectral normalisation keeps state (the
 * power-iteration vectors) that is not trained.
 */
export interface ParamStore {
  readonly trainable: Map<string, tf.Variable>;
  /** Persistent state that is saved but not trained (spectral-norm vectors). */
  readonly state: Map<string, tf.Variable>;
  dispose(): void;
}

let variableCount = 0;
/** tfjs variable names are global: each gets a unique suffix. */
const uniqueName = (name: string) => `gan/${name}#${++variableCount}`;

export function createParamStore(): ParamStore {
  const trainable = new Map<string, tf.Variable>();
  const state = new Map<string, tf.Variable>();
  return {
    trainable,
    state,
    dispose: () => {
      for (const v of [...trainable.values(), ...state.values()]) v.dispose();
      trainable.clear();
      state.clear();
    },
  };
}

/** Normal(mean, std) values from the seeded generator: weights are the same for the same seed on every backend. */
function normalValues(size: number, mean: number, std: number, random: Random): Float32Array {
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = mean + std * random.normal();
  return values;
}

/**
 * Returns the variable `name`, creating it on first use. Convolution kernels start at N(0, 0.02),
 * norm scales at N(1, 0.02), biases and shifts at 0 (the pix2pix / DCGAN initialisation).
 */
export function param(store: ParamStore, name: string, shape: number[], init: 'weight' | 'scale' | 'zero', random: Random): tf.Variable {
  const existing = store.trainable.get(name);
  if (existing) return existing;
  const size = shape.reduce((a, b) => a * b, 1);
  const values = init === 'zero' ? new Float32Array(size) : normalValues(size, init === 'scale' ? 1 : 0, 0.02, random.fork(name));
  const variable = tf.variable(tf.tensor(values, shape), true, uniqueName(name));
  store.trainable.set(name, variable);
  return variable;
}

/** A non-trained state vector (unit-norm random start), created on first use. */
export function stateParam(store: ParamStore, name: string, size: number, random: Random): tf.Variable {
  const existing = store.state.get(name);
  if (existing) return existing;
  const values = normalValues(size, 0, 1, random.fork(name));
  const norm = Math.hypot(...values) || 1;
  for (let i = 0; i < size; i++) values[i]! /= norm;
  const variable = tf.variable(tf.tensor(values, [size, 1]), false, uniqueName(name));
  store.state.set(name, variable);
  return variable;
}

/** Named arrays of a store: trainable weights under their names, state under `state:NAME`. */
export function storeArrays(store: ParamStore): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of store.trainable) out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [name, v] of store.state) out.set(`state:${name}`, { shape: v.shape, data: v.dataSync() as Float32Array });
  return out;
}

/** Writes saved arrays into an already built store (same architecture). */
export function loadStoreArrays(store: ParamStore, arrays: Map<string, { shape: number[]; data: Float32Array }>, what: string): void {
  const entries: [string, tf.Variable][] = [...store.trainable, ...[...store.state].map(([n, v]) => [`state:${n}`, v] as [string, tf.Variable])];
  for (const [name, variable] of entries) {
    const saved = arrays.get(name);
    if (!saved || saved.data.length !== variable.size) throw new Error(`${what}: checkpoint has no matching weight "${name}"`);
    tf.tidy(() => variable.assign(tf.tensor(saved.data, variable.shape)));
  }
}
