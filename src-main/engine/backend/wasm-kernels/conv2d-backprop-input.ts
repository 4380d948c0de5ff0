import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, matMul2d, reshape, stockKernels, transpose } from '../kernel-calls';

type Args = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

/**
 * Input gradient of a 2-D convolution, which is also the forward pass of a transposed convolution.
 * tfjs-wasm's own kernel is a naive loop; these paths use XNNPACK:
 * - stride 1: a convolution of `dy` with the filter flipped and its channels swapped, padded so the
 *   output has the input's size;
 * - kernel == stride, no padding (U-Net's 2x2 up-convolution): one matmul to `[.., s*s*ci]` and a
 *   depth-to-space;
 * - other strides: one matmul to columns and a col2im scatter on the heap;
 * - anything else (unequal strides, negative padding): the stock kernel.
 */
export function conv2dBackpropInput(args: Args): tf.TensorInfo {
  const { backend } = args;
  const dy = args.inputs.dy!;
  const filter = args.inputs.filter!;
  const { strides, pad, dimRoundingMode, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, inChannels, outChannels, batchSize } = info;
  const { top, left } = info.padInfo;
  if (sh === 1 && sw === 1) {
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = inHeight + kh - 1 - outHeight - padTop;
    const padRight = inWidth + kw - 1 - outWidth - padLeft;
    if (padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
      const swapped = flipAndSwapFilter(backend, filter);
      const dx = callKernel(
        backend,
        'Conv2D',
        { x: dy, filter: swapped },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [padTop, padBottom],
            [padLeft, padRight],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [1, 1],
          dimRoundingMode: undefined,
        },
      );
      free(backend, swapped);
      return dx;
    }
  }
  if (sh === kh && sw === kw && top === 0 && left === 0 && outHeight * sh === inHeight && outWidth * sw === inWidth && sh === sw) {
    // dx[n, i*s + a, j*s + b, ci] = sum over co of dy[n, i, j, co] * W[a, b, ci, co]
    const dy2 = reshape(backend, dy, [batchSize * outHeight * outWidth, outChannels]);
    const wT = transpose(backend, filter, [3, 0, 1, 2]);
    const w2 = reshape(backend, wT, [outChannels, kh * kw * inChannels]);
    const product = matMul2d(backend, dy2, w2);
    free(backend, dy2, wT, w2);
    // Depth-to-space as reshape + transpose: tfjs-wasm's DepthToSpace works element by element.
    const blocks = reshape(backend, product, [batchSize * outHeight, outWidth, kh, kw * inChannels]);
    free(backend, product);
    const interleaved = transpose(backend, blocks, [0, 2, 1, 3]);
    free(backend, blocks);
    const dx = reshape(backend, interleaved, [batchSize, inHeight, inWidth, inChannels]);
    free(backend, interleaved);
    return dx;
  }
  if (sh === sw && top >= 0 && left >= 0) {
    // Any other stride (SegFormer's 3x3 stride-2 patch embeddings): the columns
    // dy[n, i, j, :] x W[a, b, ci, :] in one XNNPACK product, then scattered back (col2im) in one pass.
    const dy2 = reshape(backend, dy, [batchSize * outHeight * outWidth, outChannels]);
    const wT = transpose(backend, filter, [3, 0, 1, 2]);
    const w2 = reshape(backend, wT, [outChannels, kh * kw * inChannels]);
    const columns = matMul2d(backend, dy2, w2);
    free(backend, dy2, wT, w2);
    const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
    const out = backend.typedArrayFromHeap(dx) as Float32Array;
    out.fill(0);
    const cols = backend.typedArrayFromHeap(columns) as Float32Array;
    const row = kh * kw * inChannels;
    for (let n = 0; n < batchSize; n++) {
      for (let i = 0; i < outHeight; i++) {
        for (let j = 0; j < outWidth; j++) {
          const colBase = ((n * outHeight + i) * outWidth + j) * row;
          for (let a = 0; a < kh; a++) {
            const y = i * sh + a - top;
            if (y < 0 || y >= inHeight) continue;
            for (let b = 0; b < kw; b++) {
              const x = j * sw + b - left;
              if (x < 0 || x >= inWidth) continue;
              const target = ((n * inHeight + y) * inWidth + x) * inChannels;
              const source = colBase + (a * kw + b) * inChannels;
              for (let ci = 0; ci < inChannels; ci++) out[target + ci]! += cols[source + ci]!;
            }
          }
        }
      }
    }
    free(backend, columns);
    return dx;
  }
  return stockKernels.get('Conv2DBackpropInput')!.kernelFunc(args as never) as tf.TensorInfo;
}

/** `W[kh-1-a, kw-1-b, co, ci]` from `W[a, b, ci, co]` in one pass (tfjs-wasm's Reverse is slow). */
function flipAndSwapFilter(backend: BackendWasm, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const source = backend.typedArrayFromHeap(filter);
  const target = backend.typedArrayFromHeap(out);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const from = (a * kw + b) * ci * co;
      const to = ((kh - 1 - a) * kw + (kw - 1 - b)) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) target[to + o * ci + i] = source[from + i * co + o]!;
    }
  }
  return out;
}
