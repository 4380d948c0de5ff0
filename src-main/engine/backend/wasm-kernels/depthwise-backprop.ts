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
 * Filter gradient of a depthwise convolution (stride 1):
 * `dW[a, b, c, m] = sum over n, i, j of x[n, i + a - pt, j + b - pl, c] * dy[n, i, j, c*M + m]`.
 * One pass over `dy` on the wasm heap, channels innermost (contiguous in NHWC), accumulated in
 * float64 as the cpu backend does. Kernel calls per tap (shift, multiply, a sum over three axes
 * that tfjs-wasm does by transposing) cost a quarter of a SegFormer training step.
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
  const cm = c * m;
  const sums = new Float64Array(kh * kw * cm);
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        const dyBase = ((n * outHeight + i) * outWidth + j) * cm;
        for (let a = 0; a < kh; a++) {
          const xi = i + a - top;
          if (xi < 0 || xi >= inHeight) continue;
          for (let b = 0; b < kw; b++) {
            const xj = j + b - left;
            if (xj < 0 || xj >= inWidth) continue;
            const xBase = ((n * inHeight + xi) * inWidth + xj) * c;
            const wBase = (a * kw + b) * cm;
            if (m === 1) {
              for (let ch = 0; ch < c; ch++) sums[wBase + ch]! += xs[xBase + ch]! * dys[dyBase + ch]!;
            } else {
              for (let ch = 0; ch < c; ch++) {
                const xv = xs[xBase + ch]!;
                for (let k = 0; k < m; k++) sums[wBase + ch * m + k]! += xv * dys[dyBase + ch * m + k]!;
              }
            }
          }
        }
      }
    }
  }
  const dw = backend.makeOutput([kh, kw, c, m], 'float32');
  (backend.typedArrayFromHeap(dw) as Float32Array).set(sums);
  return dw;
}
