/** Adam hyper-parameters (Kingma & Ba 2015), with tfjs/Keras defaults. */
export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (AdamW, Loshchilov & Hutter 2019); 0 is plain Adam. */
  weightDecay?: number;
}

export const ADAM_DEFAULTS: AdamSettings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export const OPTIMIZER_NAMES = ['adam', 'adamw'] as const;

/** The optimizer a run trains with, as stored in its config. */
export interface OptimizerSpec {
  name: (typeof OPTIMIZER_NAMES)[number];
  /** AdamW's decoupled weight decay (the SegFormer paper uses 0.01); ignored by Adam. */
  weightDecay: number;
}

/** Step settings of an optimizer spec; a config without one (older runs) trains with plain Adam. */
export function adamSettingsFor(spec: OptimizerSpec | undefined): AdamSettings {
  return spec?.name === 'adamw' ? { ...ADAM_DEFAULTS, weightDecay: spec.weightDecay } : ADAM_DEFAULTS;
}

/** Moment estimates, one pair per trainable weight, plus the step count: all a resume needs. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export function createAdamState(sizes: number[]): AdamState {
  return { step: 0, m: sizes.map((n) => new Float32Array(n)), v: sizes.map((n) => new Float32Array(n)) };
}

/** Per-step constants of the update: bias corrections folded into the step size and epsilon. */
interface AdamConstants {
  beta1: number;
  beta2: number;
  stepSize: number;
  eps: number;
  decay: number;
}

function adamConstants(step: number, learningRate: number, settings: AdamSettings): AdamConstants {
  const { beta1, beta2, epsilon } = settings;
  const correction1 = 1 - beta1 ** step;
  const correction2 = 1 - beta2 ** step;
  // The same update as tfjs's AdamOptimizer, lr * (m / c1) / (sqrt(v / c2) + eps), with two
  // multiplications fewer per weight.
  return { beta1, beta2, stepSize: (learningRate * Math.sqrt(correction2)) / correction1, eps: epsilon * Math.sqrt(correction2), decay: 1 - learningRate * (settings.weightDecay ?? 0) };
}

/**
 * One Adam step on plain arrays, in place: `weights[k] -= lr * mHat / (sqrt(vHat) + eps)`; with a
 * weight decay, AdamW's `weights[k] *= 1 - lr * weightDecay` first (as PyTorch's AdamW).
 * Done in JavaScript rather than as ~10 tensor ops per weight: on wasm that is faster, and every
 * worker of a data-parallel run applies bit-identical updates to its replica.
 */
export function adamStep(weights: Float32Array[], gradients: Float32Array[], state: AdamState, learningRate: number, settings: AdamSettings = ADAM_DEFAULTS): void {
  state.step++;
  const { beta1, beta2, stepSize, eps, decay } = adamConstants(state.step, learningRate, settings);
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k]!;
    const g = gradients[k]!;
    const m = state.m[k]!;
    const v = state.v[k]!;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = decay * w[i]! - (stepSize * mi) / (Math.sqrt(vi) + eps);
    }
  }
}

/** Flat arrays of one data-parallel run (shared memory): weights, Adam's moments, both replicas' gradients. */
export interface FlatAdamArrays {
  weights: Float32Array;
  m: Float32Array;
  v: Float32Array;
  gradients: readonly [Float32Array, Float32Array];
}

/**
 * Step `step` of Adam on elements `[from, to)` of flat arrays, the gradient being the mean of two
 * replicas' gradients weighted by `weights` (their shares of the batch). Elements are independent,
 * so two threads can each update a range and together apply exactly {@link adamStep} on the mean
 * gradient (rounded to float32 first, as a Float32Array holding it would).
 */
export function adamStepRange(arrays: FlatAdamArrays, from: number, to: number, step: number, learningRate: number, share: readonly [number, number], settings: AdamSettings = ADAM_DEFAULTS): void {
  const { beta1, beta2, stepSize, eps, decay } = adamConstants(step, learningRate, settings);
  const { weights: w, m, v } = arrays;
  const [g, h] = arrays.gradients;
  const [a, b] = share;
  for (let i = from; i < to; i++) {
    const gi = Math.fround(a * g[i]! + b * h[i]!);
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = decay * w[i]! - (stepSize * mi) / (Math.sqrt(vi) + eps);
  }
}
