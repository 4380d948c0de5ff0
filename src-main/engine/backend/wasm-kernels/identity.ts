import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Identity (`tf.clone`) sharing the buffer by reference count, as the cpu backend does, instead of
 * tfjs-wasm's copy. The tape clones every tensor it saves for the backward pass (each convolution's
 * and pooling's output, each batch norm's input), so the copy was a full pass over most activations
 * per training step. Sharing is safe: kernels never write into their inputs, and a variable's assign
 * swaps in a new buffer rather than writing the old one.
 */
export function identity(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm }): tf.TensorInfo {
  const x = args.inputs.x!;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
