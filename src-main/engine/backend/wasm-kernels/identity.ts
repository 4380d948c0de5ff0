import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels } from '../kernel-calls';

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

/**
 * Cast to the tensor's own dtype shares the buffer as {@link identity} does; real conversions go to
 * the stock kernel. tfjs-core's ReLU gradient is `dy * cast(step(x), 'float32')`, so tfjs-wasm's
 * copying Cast was a full pass per ReLU per training step.
 */
export function castSameType(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs.x!;
  if ((args.attrs as unknown as tf.CastAttrs).dtype !== x.dtype) return stockKernels.get('Cast')!.kernelFunc(args as never) as tf.TensorInfo;
  return identity(args);
}
