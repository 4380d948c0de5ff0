import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels } from '../kernel-calls';

/**
 * Sum over leading axes (`[rows, C]` summed over rows: every bias, LayerNorm and batch-norm
 * gradient) in one pass on the wasm heap, accumulated in float64. tfjs-wasm reduces only the last
 * axis and transposes first to get there. Other reductions and non-float32 tensors go to the
 * stock kernel.
 */
export function sumLeadingAxes(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const x = args.inputs.x!;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, k) => a === k);
  if (!leading || x.dtype !== 'float32') return stockKernels.get('Sum')!.kernelFunc(args as never) as tf.TensorInfo;
  const kept = x.shape.slice(axes.length);
  const width = kept.reduce((a, b) => a * b, 1);
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const sums = new Float64Array(width);
  const values = backend.typedArrayFromHeap(x) as Float32Array;
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) sums[c]! += values[base + c]!;
  }
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(sums);
  return out;
}
