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

/** Forward on plain arrays: fills y and returns the per-channel statistics. */
function forward(x: Float32Array, scale: Float32Array, offset: Float32Array, epsilon: number, y: Float32Array, mean: Float32Array, variance: Float32Array): void {
  const channels = scale.length;
  const rows = x.length / channels;
  const sum = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) for (let c = 0; c < channels; c++) sum[c]! += x[i + c]!;
  for (let c = 0; c < channels; c++) sum[c] = sum[c]! / rows;
  // Two passes (mean first, then squared deviations): as exact as tfjs-layers' moments.
  const squares = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[i + c]! - sum[c]!;
      squares[c]! += d * d;
    }
  }
  const mul = new Float32Array(channels);
  const add = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    mean[c] = sum[c]!;
    variance[c] = squares[c]! / rows;
    mul[c] = scale[c]! / Math.sqrt(variance[c]! + epsilon);
    add[c] = offset[c]! - mean[c]! * mul[c]!;
  }
  for (let i = 0; i < x.length; i += channels) for (let c = 0; c < channels; c++) y[i + c] = x[i + c]! * mul[c]! + add[c]!;
}

/** Backward on plain arrays: fills dx, dScale, dOffset. */
function backward(dy: Float32Array, x: Float32Array, scale: Float32Array, mean: Float32Array, variance: Float32Array, epsilon: number, dx: Float32Array, dScale: Float32Array, dOffset: Float32Array): void {
  const channels = scale.length;
  const rows = x.length / channels;
  const dySum = new Float64Array(channels);
  const dyXc = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const g = dy[i + c]!;
      dySum[c]! += g;
      dyXc[c]! += g * (x[i + c]! - mean[c]!);
    }
  }
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
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) dx[i + c] = gain[c]! * (dy[i + c]! - shift[c]! - (x[i + c]! - mean[c]!) * slope[c]!);
  }
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
