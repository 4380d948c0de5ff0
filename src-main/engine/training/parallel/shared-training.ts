import type { FlatAdamArrays } from '../adam';

/**
 * Shared memory of a data-parallel run, one flat float32 array each: the weights (trainable, then
 * non-trainable), Adam's two moments, the gradient of each replica (the trainer's, then the
 * worker's), and the worker replica's non-trainable weights. Both threads read and write these in
 * place: no copy crosses a message.
 */
export interface SharedTrainingMemory {
  /** Trainable values: the prefix of `weights` that Adam updates, and the length of each gradient. */
  trainable: number;
  weights: SharedArrayBuffer;
  /** Adam's moments, when the update is sharded between the threads (one float otherwise). */
  m: SharedArrayBuffer;
  v: SharedArrayBuffer;
  /** `[trainer's, worker's]`; the trainer's is shared only when the update is sharded (one float otherwise). */
  gradients: [SharedArrayBuffer, SharedArrayBuffer];
  /** The worker replica's non-trainable weights after its step. */
  state: SharedArrayBuffer;
  /**
   * One Int32: the Adam step whose update the trainer has finished writing into `weights` (its
   * range of the trainable values and the averaged state). The worker compares it with the step it
   * last loaded, so it loads each new set of weights once, as early as it can.
   */
  published: SharedArrayBuffer;
}

const floats = (n: number) => new SharedArrayBuffer(4 * Math.max(1, n));

/**
 * Memory for `trainable` trainable and `state` non-trainable values. `shardedAdam`: the moments and
 * the trainer's gradient live here too, so both threads can each apply Adam to a range (segmentation);
 * without it, only the weights the worker loads and the gradients it returns (GANs, whose one Adam
 * per network runs on the trainer's thread).
 */
export function sharedTrainingMemory(trainable: number, state: number, shardedAdam = true): SharedTrainingMemory {
  const adam = shardedAdam ? trainable : 0;
  return { trainable, weights: floats(trainable + state), m: floats(adam), v: floats(adam), gradients: [floats(adam), floats(trainable)], state: floats(state), published: new SharedArrayBuffer(4) };
}

/** Views of the memory Adam updates: the trainable weights, the moments, both gradients (sharded memory only). */
export function flatAdamArrays(memory: SharedTrainingMemory): FlatAdamArrays {
  if (memory.m.byteLength < 4 * memory.trainable) throw new Error('this training memory has no shared Adam moments');
  return {
    weights: new Float32Array(memory.weights, 0, memory.trainable),
    m: new Float32Array(memory.m, 0, memory.trainable),
    v: new Float32Array(memory.v, 0, memory.trainable),
    gradients: [new Float32Array(memory.gradients[0], 0, memory.trainable), new Float32Array(memory.gradients[1], 0, memory.trainable)],
  };
}
