import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Training-mode batch norm over the last axis as two kernels of this project, one pass each way
 * instead of tfjs-layers' moments graph (Mean, SquaredDifference, Mean, FusedBatchNorm forward; the
 * gradients of both means, of the squared difference and of FusedBatchNorm, each a full-size op,
 * backward). Registered for the cpu and wasm backends; elsewhere the stock graph runs
 * ({@link hasBatchNormTraining}).
 *
 * Forward `[y, mean, variance] = f(x [..., C], scale [C], offset [C])`, statistics over all leading
 * axes, variance biased (as tfjs-layers). Backward, with `xc = x - mean`, `r = 1/sqrt(variance + eps)`,
 * `n` rows: `dx = scale * r * (dy - sum(dy)/n - xc * r^2 * sum(dy*xc)/n)`, `dScale = r * sum(dy*xc)`,
 * `dOffset = sum(dy)` (sums per channel, accumulated in float64).
 */
export const BATCH_NORM_TRAINING = 'CovsegBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'CovsegBatchNormTrainingGrad';

interface Attrs {
  epsilon: number;
}

// The loops below walk one group of up to four channels at a time down all rows, the group's
// accumulators and coefficients in local variables: about three times faster in V8 than an inner
// loop over the channels with the accumulators in an array, and each channel still sums its rows
// in order, so the results are the same to the bit.

/** Channel groups `[first, width]` of four (the last one narrower). */
function channelGroups(channels: number): [number, number][] {
  const groups: [number, number][] = [];
  for (let c = 0; c < channels; c += 4) groups.push([c, Math.min(4, channels - c)]);
  return groups;
}

/** Per-channel sums of `x` (rows of `channels`), and of `(x - centre)^2` when a centre is given; float64. */
function channelSums(x: Float32Array, channels: number, out: Float64Array, centre?: Float64Array): void {
  const n = x.length;
  for (const [c, width] of channelGroups(channels)) {
    const k0 = centre?.[c] ?? 0;
    const k1 = centre?.[c + 1] ?? 0;
    const k2 = centre?.[c + 2] ?? 0;
    const k3 = centre?.[c + 3] ?? 0;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    if (width === 4 && centre) {
      for (let i = c; i < n; i += channels) {
        const d0 = x[i]! - k0;
        const d1 = x[i + 1]! - k1;
        const d2 = x[i + 2]! - k2;
        const d3 = x[i + 3]! - k3;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
    } else if (width === 4) {
      for (let i = c; i < n; i += channels) {
        s0 += x[i]!;
        s1 += x[i + 1]!;
        s2 += x[i + 2]!;
        s3 += x[i + 3]!;
      }
    } else {
      for (let j = 0; j < width; j++) {
        const k = centre?.[c + j];
        let s = 0;
        for (let i = c + j; i < n; i += channels) {
          const d = k === undefined ? x[i]! : x[i]! - k;
          s += k === undefined ? d : d * d;
        }
        out[c + j] = s;
      }
      continue;
    }
    out[c] = s0;
    out[c + 1] = s1;
    out[c + 2] = s2;
    out[c + 3] = s3;
  }
}

/** `out = x * gain[c] + bias[c]` per channel (coefficients float32, arithmetic float64 as in one expression). */
function channelAffine(x: Float32Array, channels: number, gain: Float32Array, bias: Float32Array, out: Float32Array): void {
  const n = x.length;
  for (const [c, width] of channelGroups(channels)) {
    if (width < 4) {
      for (let j = c; j < c + width; j++) for (let i = j; i < n; i += channels) out[i] = x[i]! * gain[j]! + bias[j]!;
      continue;
    }
    const g0 = gain[c]!;
    const g1 = gain[c + 1]!;
    const g2 = gain[c + 2]!;
    const g3 = gain[c + 3]!;
    const b0 = bias[c]!;
    const b1 = bias[c + 1]!;
    const b2 = bias[c + 2]!;
    const b3 = bias[c + 3]!;
    for (let i = c; i < n; i += channels) {
      out[i] = x[i]! * g0 + b0;
      out[i + 1] = x[i + 1]! * g1 + b1;
      out[i + 2] = x[i + 2]! * g2 + b2;
      out[i + 3] = x[i + 3]! * g3 + b3;
    }
  }
}

/** Forward on plain arrays: fills y and returns the per-channel statistics. */
function forward(x: Float32Array, scale: Float32Array, offset: Float32Array, epsilon: number, y: Float32Array, mean: Float32Array, variance: Float32Array): void {
  const channels = scale.length;
  const rows = x.length / channels;
  const sum = new Float64Array(channels);
  channelSums(x, channels, sum);
  for (let c = 0; c < channels; c++) sum[c] = sum[c]! / rows;
  // Two passes (mean first, then squared deviations): as exact as tfjs-layers' moments.
  const squares = new Float64Array(channels);
  channelSums(x, channels, squares, sum);
  const mul = new Float32Array(channels);
  const add = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    mean[c] = sum[c]!;
    variance[c] = squares[c]! / rows;
    mul[c] = scale[c]! / Math.sqrt(variance[c]! + epsilon);
    add[c] = offset[c]! - mean[c]! * mul[c]!;
  }
  channelAffine(x, channels, mul, add, y);
}

/** Per channel `sum(dy)` and `sum(dy * (x - mean))`, float64. */
function gradientSums(dy: Float32Array, x: Float32Array, mean: Float32Array, channels: number, dySum: Float64Array, dyXc: Float64Array): void {
  const n = x.length;
  for (const [c, width] of channelGroups(channels)) {
    if (width < 4) {
      for (let j = c; j < c + width; j++) {
        const m = mean[j]!;
        let a = 0;
        let b = 0;
        for (let i = j; i < n; i += channels) {
          const g = dy[i]!;
          a += g;
          b += g * (x[i]! - m);
        }
        dySum[j] = a;
        dyXc[j] = b;
      }
      continue;
    }
    const m0 = mean[c]!;
    const m1 = mean[c + 1]!;
    const m2 = mean[c + 2]!;
    const m3 = mean[c + 3]!;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let i = c; i < n; i += channels) {
      const g0 = dy[i]!;
      const g1 = dy[i + 1]!;
      const g2 = dy[i + 2]!;
      const g3 = dy[i + 3]!;
      a0 += g0;
      a1 += g1;
      a2 += g2;
      a3 += g3;
      b0 += g0 * (x[i]! - m0);
      b1 += g1 * (x[i + 1]! - m1);
      b2 += g2 * (x[i + 2]! - m2);
      b3 += g3 * (x[i + 3]! - m3);
    }
    dySum.set([a0, a1, a2, a3], c);
    dyXc.set([b0, b1, b2, b3], c);
  }
}

/** `dx = gain * (dy - shift - (x - mean) * slope)` per channel. */
function inputGradient(dy: Float32Array, x: Float32Array, mean: Float32Array, gain: Float32Array, shift: Float32Array, slope: Float32Array, dx: Float32Array): void {
  const channels = mean.length;
  const n = x.length;
  for (const [c, width] of channelGroups(channels)) {
    if (width < 4) {
      for (let j = c; j < c + width; j++) for (let i = j; i < n; i += channels) dx[i] = gain[j]! * (dy[i]! - shift[j]! - (x[i]! - mean[j]!) * slope[j]!);
      continue;
    }
    const [g0, g1, g2, g3] = [gain[c]!, gain[c + 1]!, gain[c + 2]!, gain[c + 3]!];
    const [h0, h1, h2, h3] = [shift[c]!, shift[c + 1]!, shift[c + 2]!, shift[c + 3]!];
    const [m0, m1, m2, m3] = [mean[c]!, mean[c + 1]!, mean[c + 2]!, mean[c + 3]!];
    const [s0, s1, s2, s3] = [slope[c]!, slope[c + 1]!, slope[c + 2]!, slope[c + 3]!];
    for (let i = c; i < n; i += channels) {
      dx[i] = g0 * (dy[i]! - h0 - (x[i]! - m0) * s0);
      dx[i + 1] = g1 * (dy[i + 1]! - h1 - (x[i + 1]! - m1) * s1);
      dx[i + 2] = g2 * (dy[i + 2]! - h2 - (x[i + 2]! - m2) * s2);
      dx[i + 3] = g3 * (dy[i + 3]! - h3 - (x[i + 3]! - m3) * s3);
    }
  }
}

/** Backward on plain arrays: fills dx, dScale, dOffset. */
function backward(dy: Float32Array, x: Float32Array, scale: Float32Array, mean: Float32Array, variance: Float32Array, epsilon: number, dx: Float32Array, dScale: Float32Array, dOffset: Float32Array): void {
  const channels = scale.length;
  const rows = x.length / channels;
  const dySum = new Float64Array(channels);
  const dyXc = new Float64Array(channels);
  gradientSums(dy, x, mean, channels, dySum, dyXc);
  const gain = new Float32Array(channels);
  const shift = new Float32Array(channels);
  const slope = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const r = 1 / Math.sqrt(variance[c]! + epsilon);
    dScale[c] = r * dyXc[c]!;
    dOffset[c] = dySum[c]!;
    gain[c] = scale[c]! * r;
    shift[c] = dySum[c]! / rows;
    slope[c] = (r * r * dyXc[c]!) / rows;
  }
  inputGradient(dy, x, mean, gain, shift, slope, dx);
}

/** Runs `compute` on the backend's own memory: wasm heap views, or the cpu backend's arrays. */
function onBackend(backend: tf.KernelBackend, inputs: tf.TensorInfo[], outShapes: number[][], compute: (inputs: Float32Array[], outputs: Float32Array[]) => void): tf.TensorInfo[] {
  if ('typedArrayFromHeap' in backend) {
    const wasm = backend as BackendWasm;
    const outs = outShapes.map((shape) => wasm.makeOutput(shape, 'float32'));
    // Views after every allocation: allocating can grow (and move) the heap.
    compute(
      inputs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array),
      outs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array),
    );
    return outs;
  }
  const cpu = backend as unknown as { data: { get(id: tf.DataId): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo };
  const outputs = outShapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  compute(
    inputs.map((t) => cpu.data.get(t.dataId).values),
    outputs,
  );
  return outputs.map((values, k) => cpu.makeTensorInfo(outShapes[k]!, 'float32', values));
}

const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; offset: tf.TensorInfo };
  const { epsilon } = attrs as unknown as Attrs;
  const c = scale.shape[0]!;
  return onBackend(backend as tf.KernelBackend, [x, scale, offset], [x.shape, [c], [c]], ([xv, s, o], [y, m, v]) => forward(xv!, s!, o!, epsilon, y!, m!, v!));
};

const backwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, scale, mean, variance } = inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = attrs as unknown as Attrs;
  const c = scale!.shape[0]!;
  return onBackend(backend as tf.KernelBackend, [dy!, x!, scale!, mean!, variance!], [x!.shape, [c], [c]], ([g, xv, s, m, v], [dx, ds, doff]) => backward(g!, xv!, s!, m!, v!, epsilon, dx!, ds!, doff!));
};

const BACKENDS = ['wasm', 'cpu'];
let registered = false;

/** Registers both kernels for wasm and cpu, and the forward kernel's gradient. Idempotent. */
export function registerBatchNormTraining(): void {
  if (registered) return;
  for (const backendName of BACKENDS) {
    tf.registerKernel({ kernelName: BATCH_NORM_TRAINING, backendName, kernelFunc: forwardKernel });
    tf.registerKernel({ kernelName: BATCH_NORM_TRAINING_GRAD, backendName, kernelFunc: backwardKernel });
  }
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, scale, mean, variance] = saved as tf.Tensor[];
      // Only y feeds the loss; the statistics go to the moving averages.
      const dy = (Array.isArray(dys) ? dys[0] : dys) ?? tf.zerosLike(x!);
      const [dx, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, { dy, x: x!, scale: scale!, mean: mean!, variance: variance! } as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
  registered = true;
}

/** Whether the active backend has the fused kernels (otherwise use tfjs-layers' moments graph). */
export function hasBatchNormTraining(): boolean {
  return registered && tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) !== undefined;
}

/** Training-mode batch norm of `x [..., C]` over all leading axes: `[y, mean [C], variance [C]]`. */
export function batchNormTraining(x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset } as unknown as tf.NamedTensorMap, { epsilon } as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
}
