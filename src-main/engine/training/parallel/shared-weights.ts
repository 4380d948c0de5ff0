import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Number of values of each weight, in model order. */
export function weightSizes(weights: readonly { read(): tf.Tensor }[]): number[] {
  return weights.map((w) => w.read().size);
}

/**
 * A tensor's values to read once, right away: on wasm a view of its heap buffer (no copy; stale
 * after the next allocation), elsewhere what `dataSync` returns.
 */
function valuesNow(tensor: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') return (tf.backend() as BackendWasm).typedArrayFromHeap(tensor) as Float32Array;
  return tensor.dataSync() as Float32Array;
}

/** Copies arrays (or tensors' values) one after another into `target`. */
export function writeFlat(target: Float32Array, parts: readonly (Float32Array | tf.Tensor)[]): void {
  let offset = 0;
  for (const part of parts) {
    const values = part instanceof Float32Array ? part : valuesNow(part);
    target.set(values, offset);
    offset += values.length;
  }
}

/** Assigns `variables`, in order, from one flat array. */
export function readFlatInto(source: Float32Array, variables: readonly tf.Variable[]): void {
  let offset = 0;
  // wasm copies the values into its heap at once; the cpu backend would keep a view of shared
  // memory that changes later, and webgpu uploads lazily: those get a copy.
  const copies = tf.getBackend() !== 'wasm';
  tf.tidy(() => {
    for (const variable of variables) {
      const values = copies ? source.slice(offset, offset + variable.size) : source.subarray(offset, offset + variable.size);
      variable.assign(tf.tensor(values, variable.shape));
      offset += variable.size;
    }
  });
}

/** Assigns trainable then non-trainable weights of `model` from one flat array. */
export function readWeightsFrom(source: Float32Array, model: tfl.LayersModel): void {
  readFlatInto(source, [...model.trainableWeights, ...model.nonTrainableWeights].map((w) => w.read() as tf.Variable));
}

/** Consecutive views of `flat`, one per size. */
export function splitFlat(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    out.push(flat.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}
