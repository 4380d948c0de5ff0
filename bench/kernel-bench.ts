// `npx tsx bench/kernel-bench.ts [--size 128] [--batch 4] [--rounds 7]`: the U-Net's convolution
// kernels on wasm at one image size, each formulation timed interleaved with the others (A, B, C, A,
// B, C, ...) so that load from other processes hits all of them alike; medians of this process's
// CPU time (user + system, which other processes' load disturbs much less than wall time) in ms and GFLOP/s.
// A decision aid for the kernels in src-main/engine/backend/wasm-kernels, not a test.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { conv2dBackpropFilter, conv2dBackpropFilterByConvolution } from '../src-main/engine/backend/wasm-kernels/conv2d-backprop-filter';
import { machineDescription } from './machine';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 128);
const batch = arg('batch', 4);
const rounds = arg('rounds', 7);

await selectBackend('wasm');
const backend = tf.backend() as BackendWasm;

type Shape = { h: number; ci: number; co: number; k: number; s: number };
// Every distinct convolution of U-Net depth 4, base 16 at this size (3x3 same, 2x2 stride-2 up-convolution gradients, 1x1 logits).
const shapes: Shape[] = [];
for (let level = 0; level <= 4; level++) {
  const h = size >> level;
  const c = 16 << level;
  shapes.push({ h, ci: level === 0 ? 1 : c / 2, co: c, k: 3, s: 1 }, { h, ci: c, co: c, k: 3, s: 1 });
  if (level < 4) shapes.push({ h: h, ci: c, co: c * 2, k: 2, s: 2 });
}
shapes.push({ h: size, ci: 16, co: 1, k: 1, s: 1 });

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

console.log(machineDescription().summary);
console.log(`U-Net convolutions at ${size} px, batch ${batch}, ${rounds} interleaved rounds (median CPU ms, GFLOP/s)`);
console.log('shape'.padEnd(30), 'forward'.padStart(16), 'dW gemm'.padStart(16), 'dW conv'.padStart(16), 'dX'.padStart(16));
const totals = { forward: 0, gemm: 0, conv: 0, input: 0 };
for (const { h, ci, co, k, s } of shapes) {
  // For the 2x2 stride-2 rows, x is the up-convolution's output and dy its input, as in its gradient.
  const x = tf.randomUniform([batch, h, h, ci], -1, 1, 'float32', 1) as tf.Tensor4D;
  const f = tf.randomUniform([k, k, ci, co], -1, 1, 'float32', 2) as tf.Tensor4D;
  const y = tf.conv2d(x, f, s, s === 1 ? 'same' : 'valid');
  const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 3) as tf.Tensor4D;
  const flops = 2 * y.size * k * k * ci;
  const attrs = { strides: [s, s], pad: s === 1 ? 'same' : 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [k, k, ci, co] };
  const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as tf.TensorInfo;
  const kernelArgs = { inputs: { x: info(x), dy: info(dy) }, backend, attrs: attrs as unknown as tf.NamedAttrMap };
  const variants: Record<keyof typeof totals, () => void> = {
    forward: () => tf.tidy(() => void tf.conv2d(x, f, s, s === 1 ? 'same' : 'valid')),
    gemm: () => backend.disposeData(conv2dBackpropFilter(kernelArgs).dataId),
    conv: () => backend.disposeData(conv2dBackpropFilterByConvolution(kernelArgs).dataId),
    input: () => tf.tidy(() => void tf.conv2dTranspose(dy, f, x.shape, s, s === 1 ? 'same' : 'valid')),
  };
  const times: Record<string, number[]> = { forward: [], gemm: [], conv: [], input: [] };
  for (const v of Object.values(variants)) v();
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const start = process.cpuUsage();
      run();
      const used = process.cpuUsage(start);
      times[name]!.push((used.user + used.system) / 1000);
    }
  }
  const cells = (Object.keys(variants) as (keyof typeof totals)[]).map((name) => {
    const ms = median(times[name]!);
    totals[name] += ms;
    return `${ms.toFixed(2)} ${(flops / ms / 1e6).toFixed(1)}`.padStart(16);
  });
  console.log(`${h}px ${ci}->${co} k${k} s${s}`.padEnd(30), ...cells);
  tf.dispose([x, f, y, dy]);
}
console.log('sum of medians (ms)'.padEnd(30), ...Object.values(totals).map((t) => t.toFixed(1).padStart(16)));
