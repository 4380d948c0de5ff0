import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Attrs = Record<string, unknown>;
type Inputs = Record<string, tf.TensorInfo> | tf.TensorInfo[];

/**
 * Calls another kernel of the wasm backend directly, below the engine: no tape, no tensor tracking.
 * Composed kernels use this and free every intermediate with {@link free}.
 */
export function callKernel(backend: BackendWasm, name: string, inputs: Inputs, attrs: Attrs = {}): tf.TensorInfo {
  const kernel = stockKernels.get(name) ?? tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** Releases intermediates made by {@link callKernel} (reshapes share data and are counted by reference). */
export function free(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Kernels this project replaces keep their stock implementation here, for shapes it does not handle. */
export const stockKernels = new Map<string, tf.KernelConfig>();

export function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return callKernel(backend, 'Reshape', { x }, { shape });
}

export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return callKernel(backend, 'Transpose', { x }, { perm });
}

/** `a [M, K] x b [K, N]` through XNNPACK (batch 1, no transpose flags: the only fast path in tfjs-wasm). */
export function matMul2d(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const a3 = reshape(backend, a, [1, a.shape[0]!, a.shape[1]!]);
  const b3 = reshape(backend, b, [1, b.shape[0]!, b.shape[1]!]);
  const out = callKernel(backend, 'BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false });
  free(backend, a3, b3);
  const out2 = reshape(backend, out, [a.shape[0]!, b.shape[1]!]);
  free(backend, out);
  return out2;
}

/**
 * A tensor that aliases `count` floats of `base`'s wasm buffer from float `offset` on, without a copy
 * (XNNPACK reads a shifted window of one buffer). Release it with {@link freeView}, never {@link free}:
 * it owns no allocation.
 */
export function heapView(backend: BackendWasm, base: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  const memoryOffset = backend.dataIdMap.get(base.dataId)!.memoryOffset + offset * Float32Array.BYTES_PER_ELEMENT;
  return backend.makeOutput(shape, 'float32', memoryOffset);
}

/** Unregisters a {@link heapView} without freeing the memory it borrows. */
export function freeView(backend: BackendWasm, view: tf.TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  if (!data) return;
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}
