import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { stockKernels } from '../kernel-calls';

/**
 * Gradient of 2x2 stride-2 max pooling without padding (every U-Net downsampling) in one pass on
 * the wasm heap: each window's `dy` goes to its largest input, the first one on ties as the cpu
 * backend (and PyTorch) does. tfjs-wasm's kernel runs a general 3-D pooling loop that took ~17 ns
 * per input value, longer than the fused batch norm. Other pooling shapes go to the stock kernel.
 */
export function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const dy = args.inputs.dy!;
  const x = args.inputs.input!;
  const { filterSize, strides, pad } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const [fh, fw] = typeof filterSize === 'number' ? [filterSize, filterSize] : filterSize;
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  if (fh !== 2 || fw !== 2 || sh !== 2 || sw !== 2 || pad !== 'valid' || x.dtype !== 'float32') return stockKernels.get('MaxPoolGrad')!.kernelFunc(args as never) as tf.TensorInfo;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const out = backend.makeOutput(x.shape, 'float32');
  // Views after the allocation: an allocation can grow (and move) the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  // Rows and columns left over by an odd size get no gradient.
  dx.fill(0);
  const row = w * c;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const p00 = ((b * h + 2 * i) * w + 2 * j) * c;
        for (let k = 0; k < c; k++, o++) {
          let at = p00 + k;
          let best = xs[at]!;
          if (xs[at + c]! > best) {
            best = xs[at + c]!;
            at = p00 + k + c;
          }
          if (xs[p00 + k + row]! > best) {
            best = xs[p00 + k + row]!;
            at = p00 + k + row;
          }
          if (xs[p00 + k + row + c]! > best) at = p00 + k + row + c;
          dx[at] = g[o]!;
        }
      }
    }
  }
  return out;
}
