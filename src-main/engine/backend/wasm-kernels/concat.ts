import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels } from '../kernel-calls';
import { copyRuns, heapIndex } from './strided-copy';

/**
 * Concat along any axis by block copies on the wasm heap: for every outer row, each input
 * contributes one contiguous run of `width * inner` values. tfjs-wasm's own kernel copies element
 * by element for inner axes (SegFormer's decoder concatenates four 256-channel maps per step).
 * Non-float32 tensors go to the stock kernel.
 */
export function concat(args: { inputs: tf.TensorInfo[]; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const inputs = args.inputs.filter((t) => t.shape.reduce((a, b) => a * b, 1) > 0);
  if (inputs.length === 0 || inputs.some((t) => t.dtype !== 'float32')) return stockKernels.get('Concat')!.kernelFunc(args as never) as tf.TensorInfo;
  const rank = inputs[0]!.shape.length;
  const axis = tf.util.parseAxisParam((args.attrs as unknown as tf.ConcatAttrs).axis, inputs[0]!.shape)[0]!;
  tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  const shape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1, rank).reduce((a, b) => a * b, 1);
  const rowLength = shape[axis]! * inner;
  const out = backend.makeOutput(shape, 'float32');
  // Views after the allocation: an allocation can grow (and move) the heap.
  const { heap, at: target } = heapIndex(backend.typedArrayFromHeap(out) as Float32Array);
  let offset = 0;
  for (const input of inputs) {
    const source = heapIndex(backend.typedArrayFromHeap(input) as Float32Array).at;
    const run = input.shape[axis]! * inner;
    copyRuns(heap, source, run, target + offset, rowLength, run, outer);
    offset += run;
  }
  return out;
}
