import type { FlatAdamArrays } from '../adam';

/**
 * Shared memory of a data-parallel run, one flat float32 array each: the weights (trainable, then
 * non-trainable), Adam's two moments, the gradient of each replica, and the replica's batch-norm
 * statistics. Both threads read and write these in place: no copy crosses a message.
 */
export interface SharedTrainingMemory {
  trainable: number;
  weights: SharedArrayBuffer;
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  gradients: [SharedArrayBuffer, SharedArrayBuffer];
  /** The worker replica's non-trainable weights after its step. */
  state: SharedArrayBuffer;
}

const floats = (n: number) => new SharedArrayBuffer(4 * Math.max(1, n));

export function sharedTrainingMemory(trainable: number, state: number): SharedTrainingMemory {
  return { trainable, weights: floats(trainable + state), m: floats(trainable), v: floats(trainable), gradients: [floats(trainable), floats(trainable)], state: floats(state) };
}

/** Views of the memory Adam updates: the trainable weights, the moments, both gradients. */
export function flatAdamArrays(memory: SharedTrainingMemory): FlatAdamArrays {
  return {
    weights: new Float32Array(memory.weights, 0, memory.trainable),
    m: new Float32Array(memory.m, 0, memory.trainable),
    v: new Float32Array(memory.v, 0, memory.trainable),
    gradients: [new Float32Array(memory.gradients[0], 0, memory.trainable), new Float32Array(memory.gradients[1], 0, memory.trainable)],
  };
}

/** Consecutive views of `sizes` floats each over `flat`. */
export function splitFlat(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    out.push(flat.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}
