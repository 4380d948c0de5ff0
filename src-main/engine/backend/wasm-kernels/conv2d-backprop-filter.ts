import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, transpose } from '../kernel-calls';

/**
 * Filter gradient of a 2-D convolution, which tfjs-wasm lacks:
 * `dW[a, b, ci, co] = sum over n, i, j of x[n, i*s + a - padTop, j*s + b - padLeft, ci] * dy[n, i, j, co]`.
 *
 * Computed as one XNNPACK convolution of transposed tensors: the input seen as `[ci, H, W, n]`
 * (batch = input channels, channels = batch), the output gradient as a filter `[outH, outW, n, co]`,
 * dilated by the stride. The result `[ci, kh, kw, co]` is transposed into place.
 */
export function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const x = args.inputs.x!;
  const dy = args.inputs.dy!;
  const { strides, pad, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight, outWidth, inHeight, inWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Rows the dilated "filter" reaches: (kh - 1) + (outH - 1) * s + 1; what x lacks is bottom padding.
  let bottom = kh - 1 + (outHeight - 1) * sh + 1 - inHeight - top;
  let right = kw - 1 + (outWidth - 1) * sw + 1 - inWidth - left;
  let input = x;
  if (bottom < 0 || right < 0) {
    // The forward pass never read the last rows or columns (valid padding with leftovers): drop them.
    input = callKernel(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [x.shape[0]!, inHeight + Math.min(0, bottom), inWidth + Math.min(0, right), x.shape[3]!] });
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  const xT = transpose(backend, input, [3, 1, 2, 0]);
  if (input !== x) free(backend, input);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const out = callKernel(
    backend,
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    },
  );
  free(backend, xT, dyT);
  const dw = transpose(backend, out, [1, 2, 0, 3]);
  free(backend, out);
  return dw;
}
