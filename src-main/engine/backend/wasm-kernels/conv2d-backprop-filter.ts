import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, freeView, heapView, reshape, transpose } from '../kernel-calls';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap };

/**
 * Filter gradient of a 2-D convolution, which tfjs-wasm lacks:
 * `dW[a, b, ci, co] = sum over n, i, j of x[n, i*s + a - padTop, j*s + b - padLeft, ci] * dy[n, i, j, co]`.
 *
 * Three formulations, chosen by shape (fixed rules, not timed at run time, so that training stays
 * bit-reproducible; `bench/kernel-bench.ts` measured them against each other):
 * - stride 1 (every 3x3 and 1x1 convolution of the U-Net): one XNNPACK GEMM per filter tap over
 *   shifted windows of one padded buffer, see {@link shiftedWindowGemm};
 * - kernel equal to stride, no padding (2x2 stride-2 transposed convolutions): the patches are
 *   disjoint, so one transpose and one GEMM, see {@link disjointPatchGemm};
 * - anything else: one XNNPACK convolution of transposed tensors, see {@link transposedConvolution}.
 */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { backend } = args;
  const x = args.inputs.x!;
  const dy = args.inputs.dy!;
  const info = convInfo(args);
  if (info.strideHeight === 1 && info.strideWidth === 1) return shiftedWindowGemm(backend, x, dy, info);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  if (kh === sh && kw === sw && padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0) return disjointPatchGemm(backend, x, dy, info);
  return transposedConvolution(backend, x, dy, info);
}

function convInfo(args: KernelArgs): tf.backend_util.Conv2DInfo {
  const { strides, pad, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return tf.backend_util.computeConv2DInfo(args.inputs.x!.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
}

/** Padding below and right of x that the filter reaches; negative where the forward pass left rows or columns unread. */
function trailingPadding(info: tf.backend_util.Conv2DInfo): { bottom: number; right: number } {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight, outWidth, inHeight, inWidth } = info;
  return {
    bottom: kh - 1 + (outHeight - 1) * sh + 1 - inHeight - info.padInfo.top,
    right: kw - 1 + (outWidth - 1) * sw + 1 - inWidth - info.padInfo.left,
  };
}

/** x without the rows and columns the forward pass never read (valid padding with leftovers), or x itself. */
function dropUnread(backend: BackendWasm, x: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  if (rows >= x.shape[1]! && cols >= x.shape[2]!) return x;
  return callKernel(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [x.shape[0]!, Math.min(rows, x.shape[1]!), Math.min(cols, x.shape[2]!), x.shape[3]!] });
}

/** A fresh copy of `t` as `[1, rows, cols]`: XNNPACK's GEMM caches its packed right-hand side by tensor id, so it gets an id of its own. */
function freshMatrix(backend: BackendWasm, t: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  const out = backend.makeOutput([1, rows, cols], 'float32');
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(t));
  return out;
}

/**
 * Stride 1. x is zero-padded to `[n, Hp, Wp, ci]` with `Hp = outH + kh - 1`, `Wp = outW + kw - 1`, and
 * transposed to channel rows `[ci, n * Hp * Wp]`; dy is zero-padded to the same `[n, Hp, Wp, co]`. Then
 * `dW[a, b] = X(a*Wp + b) [ci, L] x dy [L, co]` where `X(d)` is the row-major window starting `d` floats
 * into the buffer: tap `(a, b)` of flat position `q` is `q + a*Wp + b`, and wherever that crosses into
 * the next image or row, dy's padding is zero. One extra zero channel gives the last row's window its
 * tail. The nine GEMMs share one right-hand side, which XNNPACK packs once.
 */
function shiftedWindowGemm(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, outHeight, outWidth, inChannels: ci, outChannels: co, batchSize: n } = info;
  const { bottom, right } = trailingPadding(info);
  const input = dropUnread(backend, x, info.inHeight + bottom, info.inWidth + right);
  const hp = outHeight + kh - 1;
  const wp = outWidth + kw - 1;
  const length = n * hp * wp;
  const padded = callKernel(backend, 'PadV2', { x: input }, {
    paddings: [
      [0, 0],
      [info.padInfo.top, Math.max(0, bottom)],
      [info.padInfo.left, Math.max(0, right)],
      [0, 1],
    ],
    constantValue: 0,
  });
  if (input !== x) free(backend, input);
  const rows = transpose(backend, padded, [3, 0, 1, 2]);
  free(backend, padded);
  const dyPadded =
    kh === 1 && kw === 1
      ? freshMatrix(backend, dy, length, co)
      : callKernel(backend, 'PadV2', { x: dy }, { paddings: [[0, 0], [0, kh - 1], [0, kw - 1], [0, 0]], constantValue: 0 });
  const right3 = reshape(backend, dyPadded, [1, length, co]);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const window = heapView(backend, rows, a * wp + b, [1, ci, length]);
      const tap = callKernel(backend, 'BatchMatMul', { a: window, b: right3 }, { transposeA: false, transposeB: false });
      freeView(backend, window);
      // Views after the GEMM: its output allocation can grow (and move) the heap.
      backend.typedArrayFromHeap(dw).set(backend.typedArrayFromHeap(tap), (a * kw + b) * ci * co);
      free(backend, tap);
    }
  }
  free(backend, rows, right3, dyPadded);
  return dw;
}

/**
 * Kernel equal to stride, no padding: every input pixel feeds exactly one tap, so x viewed as
 * `[n*outH, kh, outW, kw*ci]` and transposed to `[kh*kw*ci, n*outH*outW]` is the whole im2col matrix,
 * and `dW [kh*kw*ci, co]` is one GEMM with dy `[n*outH*outW, co]`.
 */
function disjointPatchGemm(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, outHeight, outWidth, inChannels: ci, outChannels: co, batchSize: n } = info;
  const input = dropUnread(backend, x, outHeight * kh, outWidth * kw);
  const patches4 = reshape(backend, input, [n * outHeight, kh, outWidth, kw * ci]);
  if (input !== x) free(backend, input);
  const columns = transpose(backend, patches4, [1, 3, 0, 2]);
  free(backend, patches4);
  const left = reshape(backend, columns, [1, kh * kw * ci, n * outHeight * outWidth]);
  free(backend, columns);
  const dyMatrix = freshMatrix(backend, dy, n * outHeight * outWidth, co);
  const product = callKernel(backend, 'BatchMatMul', { a: left, b: dyMatrix }, { transposeA: false, transposeB: false });
  free(backend, left, dyMatrix);
  const dw = reshape(backend, product, [kh, kw, ci, co]);
  free(backend, product);
  return dw;
}

/**
 * The general case: one XNNPACK convolution of transposed tensors: the input seen as `[ci, H, W, n]`
 * (batch = input channels, channels = batch), the output gradient as a filter `[outH, outW, n, co]`,
 * dilated by the stride. The result `[ci, kh, kw, co]` is transposed into place. Slow where n is
 * small (XNNPACK reads n floats per indirection pointer), hence the GEMM forms above.
 */
export function transposedConvolution(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { strideHeight: sh, strideWidth: sw, inHeight, inWidth } = info;
  const { top, left } = info.padInfo;
  const trailing = trailingPadding(info);
  const input = dropUnread(backend, x, inHeight + Math.min(0, trailing.bottom), inWidth + Math.min(0, trailing.right));
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
        [top, Math.max(0, trailing.bottom)],
        [left, Math.max(0, trailing.right)],
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

/** The transposed-convolution formulation for any shape, for tests and the kernel bench. */
export function conv2dBackpropFilterByConvolution(args: KernelArgs): tf.TensorInfo {
  return transposedConvolution(args.backend, args.inputs.x!, args.inputs.dy!, convInfo(args));
}
