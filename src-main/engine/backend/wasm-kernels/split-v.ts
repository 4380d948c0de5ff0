import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels } from '../kernel-calls';
import { copyRuns, heapIndex } from './strided-copy';

/**
 * SplitV (the gradient of U-Net's skip concatenations) by block copies on the wasm heap: each output
 * takes a contiguous run of `width * inner` values from every outer row, instead of tfjs-wasm's
 * element-by-element slices. Non-float32 tensors go to the stock kernel.
 */
export function splitV(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { backend } = args;
  const x = args.inputs.x!;
  if (x.dtype !== 'float32') return stockKernels.get('SplitV')!.kernelFunc(args as never) as tf.TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
  const $axis = axis < 0 ? axis + x.shape.length : axis;
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
  const outer = x.shape.slice(0, $axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice($axis + 1).reduce((a, b) => a * b, 1);
  const rowLength = x.shape[$axis]! * inner;
  const outputs = sizes.map((size) => {
    const shape = x.shape.slice();
    shape[$axis] = size;
    return backend.makeOutput(shape, x.dtype);
  });
  // Views are taken after every allocation: an allocation can grow (and move) the heap.
  const { heap, at: source } = heapIndex(backend.typedArrayFromHeap(x) as Float32Array);
  let offset = 0;
  outputs.forEach((out, k) => {
    const run = sizes[k]! * inner;
    copyRuns(heap, source + offset, rowLength, heapIndex(backend.typedArrayFromHeap(out) as Float32Array).at, run, run, outer);
    offset += run;
  });
  return outputs;
}
