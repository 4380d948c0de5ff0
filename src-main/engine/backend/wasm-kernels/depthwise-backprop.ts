import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, reshape } from '../kernel-calls';

type Args = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

/** Convolution geometry of a depthwise kernel; only stride 1 and dilation 1 are implemented here. */
function depthwiseInfo(kernel: string, xShape: number[], filterShape: number[], attrs: tf.DepthwiseConv2dNativeBackpropInputAttrs | tf.DepthwiseConv2dNativeBackpropFilterAttrs) {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(
      `${kernel} on wasm supports stride 1 and dilation 1 only (got stride ${info.strideHeight}x${info.strideWidth}, dilation ${info.dilationHeight}x${info.dilationWidth}); use the cpu or tensorflow backend for this model`,
    );
  }
  return info;
}

/**
 * Input gradient of a depthwise convolution (stride 1): a depthwise convolution of `dy` with the
 * flipped filter over all `C * M` channels, then a sum over the channel multiplier `M`.
 */
export function depthwiseBackpropInput(args: Args): tf.TensorInfo {
  const { backend } = args;
  const dy = args.inputs.dy!;
  const filter = args.inputs.filter!;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseInfo('DepthwiseConv2dNativeBackpropInput', attrs.inputShape, filter.shape, attrs);
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, inChannels: c, batchSize } = info;
  const m = filter.shape[3]!;
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  const flipped = callKernel(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const flat = reshape(backend, flipped, [kh, kw, c * m, 1]);
  free(backend, flipped);
  const spread = callKernel(
    backend,
    'DepthwiseConv2dNative',
    { x: dy, filter: flat },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [padTop, inHeight + kh - 1 - outHeight - padTop],
        [padLeft, inWidth + kw - 1 - outWidth - padLeft],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    },
  );
  free(backend, flat);
  if (m === 1) return spread;
  const split = reshape(backend, spread, [batchSize, inHeight, inWidth, c, m]);
  free(backend, spread);
  const dx = callKernel(backend, 'Sum', { x: split }, { axis: [4], keepDims: false });
  free(backend, split);
  return dx;
}

/**
 * Filter gradient of a depthwise convolution (stride 1): for each filter tap, the shifted input times
 * `dy`, summed over batch and space: `dW[a, b, c, m] = sum x[n, i + a - pt, j + b - pl, c] * dy[n, i, j, c*M + m]`.
 */
export function depthwiseBackpropFilter(args: Args): tf.TensorInfo {
  const { backend } = args;
  const x = args.inputs.x!;
  const dy = args.inputs.dy!;
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = depthwiseInfo('DepthwiseConv2dNativeBackpropFilter', x.shape, attrs.filterShape, attrs);
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, inChannels: c, batchSize } = info;
  const m = attrs.filterShape[3];
  const { top, left } = info.padInfo;
  const bottom = Math.max(0, outHeight + kh - 1 - inHeight - top);
  const right = Math.max(0, outWidth + kw - 1 - inWidth - left);
  const padded = callKernel(
    backend,
    'PadV2',
    { x },
    {
      paddings: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const dy5 = reshape(backend, dy, [batchSize, outHeight, outWidth, c, m]);
  const taps: tf.TensorInfo[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const shifted = callKernel(backend, 'Slice', { x: padded }, { begin: [0, a, b, 0], size: [batchSize, outHeight, outWidth, c] });
      const shifted5 = reshape(backend, shifted, [batchSize, outHeight, outWidth, c, 1]);
      const product = callKernel(backend, 'Multiply', { a: shifted5, b: dy5 });
      taps.push(callKernel(backend, 'Sum', { x: product }, { axis: [0, 1, 2], keepDims: false }));
      free(backend, shifted, shifted5, product);
    }
  }
  free(backend, padded, dy5);
  const stacked = callKernel(backend, 'Pack', taps, { axis: 0 });
  free(backend, ...taps);
  const dw = reshape(backend, stacked, [kh, kw, c, m]);
  free(backend, stacked);
  return dw;
}
