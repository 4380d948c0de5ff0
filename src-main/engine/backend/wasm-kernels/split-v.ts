import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * SplitV (the gradient of U-Net's skip concatenations) by block copies on the wasm heap: each output
 * takes a contiguous run of `width * inner` values from every outer row, instead of tfjs-wasm's
 * element-by-element slices.
 */
export function splitV(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { backend } = args;
  const x = args.inputs.x!;
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
  const source = backend.typedArrayFromHeap(x);
  let offset = 0;
  outputs.forEach((out, k) => {
    const target = backend.typedArrayFromHeap(out);
    const run = sizes[k]! * inner;
    for (let r = 0; r < outer; r++) target.set(source.subarray(r * rowLength + offset, r * rowLength + offset + run), r * run);
    offset += run;
  });
  return outputs;
}
