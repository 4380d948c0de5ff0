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

/**
 * One Adam step on plain arrays, in place: `weights[k] -= lr * mHat / (sqrt(vHat) + eps)`; with a
 * weight decay, AdamW's `weights[k] *= 1 - lr * weightDecay` first (as PyTorch's AdamW).
 * Done in JavaScript rather than as ~10 tensor ops per weight: on wasm that is faster, and every
 * worker of a data-parallel run applies bit-identical updates to its replica.
 */
export function adamStep(weights: Float32Array[], gradients: Float32Array[], state: AdamState, learningRate: number, settings: AdamSettings = ADAM_DEFAULTS): void {
  state.step++;
  const { beta1, beta2, epsilon } = settings;
  const correction1 = 1 - beta1 ** state.step;
  const correction2 = 1 - beta2 ** state.step;
  // Bias corrections folded into the step size and epsilon: the same update as tfjs's AdamOptimizer,
  // lr * (m / c1) / (sqrt(v / c2) + eps), with two multiplications fewer per weight.
  const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;
  const eps = epsilon * Math.sqrt(correction2);
  const decay = 1 - learningRate * (settings.weightDecay ?? 0);
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
