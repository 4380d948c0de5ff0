import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, free, reshape, transpose } from '../kernel-calls';

/** Copies `count` floats of `source` from `from` into a new `[1, rows, cols]` tensor on the wasm heap. */
function copyBlock(backend: BackendWasm, source: tf.TensorInfo, from: number, rows: number, cols: number): tf.TensorInfo {
  const out = backend.makeOutput([1, rows, cols], 'float32');
  // Views after the allocation: allocating can grow (and move) the heap.
  backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(source).subarray(from, from + rows * cols));
  return out;
}

/**
 * Batched matrix product `a [..., M, K] x b [..., K, N]` with transposes, for wasm. tfjs-wasm sends
 * only batch 1 without transpose flags to XNNPACK and computes everything else with a naive loop
 * (every Dense layer's gradient and every attention product). Here transposed operands are
 * transposed explicitly (a fast copy) and each batch item goes through the XNNPACK path; a shared
 * right-hand matrix lets the whole batch go through in one call.
 */
export function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { backend } = args;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const a = args.inputs.a!;
  const b = args.inputs.b!;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const m = transposeA ? a.shape[aRank - 1]! : a.shape[aRank - 2]!;
  const k = transposeA ? a.shape[aRank - 2]! : a.shape[aRank - 1]!;
  const n = transposeB ? b.shape[bRank - 2]! : b.shape[bRank - 1]!;
  const innerB = transposeB ? b.shape[bRank - 1]! : b.shape[bRank - 2]!;
  if (k !== innerB) throw new Error(`matMul: inner sizes ${k} and ${innerB} of shapes [${a.shape}] and [${b.shape}] (transposeA ${transposeA}, transposeB ${transposeB}) differ`);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = Math.max(batchA, batchB);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
    throw new Error(`matMul: batch shapes [${outerA}] and [${outerB}] broadcast only where one of them is 1 here`);
  }

  // Operands as [batch, M, K] and [batch, K, N], transposed if needed.
  const a3 = reshape(backend, a, [batchA, transposeA ? k : m, transposeA ? m : k]);
  const b3 = reshape(backend, b, [batchB, transposeB ? n : k, transposeB ? k : n]);
  const left = transposeA ? transpose(backend, a3, [0, 2, 1]) : a3;
  const right = transposeB ? transpose(backend, b3, [0, 2, 1]) : b3;
  let result: tf.TensorInfo;
  if (batchB === 1) {
    // One right-hand matrix: stack the left batch into rows, a single XNNPACK call.
    const rows = reshape(backend, left, [1, batchA * m, k]);
    const product = callKernel(backend, 'BatchMatMul', { a: rows, b: right }, { transposeA: false, transposeB: false });
    result = reshape(backend, product, [...outer, m, n]);
    free(backend, rows, product);
  } else {
    result = backend.makeOutput([...outer, m, n], 'float32');
    for (let i = 0; i < batch; i++) {
      const ai = copyBlock(backend, left, batchA === 1 ? 0 : i * m * k, m, k);
      const bi = copyBlock(backend, right, i * k * n, k, n);
      const product = callKernel(backend, 'BatchMatMul', { a: ai, b: bi }, { transposeA: false, transposeB: false });
      backend.typedArrayFromHeap(result).set(backend.typedArrayFromHeap(product), i * m * n);
      free(backend, ai, bi, product);
    }
  }
  if (left !== a3) free(backend, left);
  if (right !== b3) free(backend, right);
  free(backend, a3, b3);
  return result;
}
