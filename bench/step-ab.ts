// `npx tsx bench/step-ab.ts [--size 128] [--rounds 6]`: whole U-Net training steps (depth 4, base 16,
// batch 4, BCE, JS Adam) on wasm with this project's kernels against the previous formulations,
// interleaved step by step so that load from other processes hits both alike; medians of wall time
// and of this process's CPU time (user + system), which other processes' load disturbs much less.
//   new: GEMM filter gradient + fused training batch norm (what the trainer runs)
//   old: filter gradient as one transposed convolution + tfjs-layers' moments graph
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING } from '../src-main/engine/backend/batch-norm-training';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { conv2dBackpropFilter, conv2dBackpropFilterByConvolution } from '../src-main/engine/backend/wasm-kernels/conv2d-backprop-filter';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { singleStepEngine } from '../src-main/engine/training/step-engine';
import { machineDescription } from './machine';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 128);
const rounds = arg('rounds', 6);
await selectBackend('wasm');

const fusedBatchNorm = tf.getKernel(BATCH_NORM_TRAINING, 'wasm')!;
function use(variant: 'new' | 'old'): void {
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: (variant === 'new' ? conv2dBackpropFilter : conv2dBackpropFilterByConvolution) as unknown as tf.KernelFunc });
  // Without the fused kernel the layer runs tfjs-layers' own training pass.
  if (tf.getKernel(BATCH_NORM_TRAINING, 'wasm')) tf.unregisterKernel(BATCH_NORM_TRAINING, 'wasm');
  if (variant === 'new') tf.registerKernel(fusedBatchNorm);
}

const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
const masks = images.map((im) => im.map((v) => (v > 200 ? 1 : 0)));
const batch = { ...batchArrays({ ids: ['0', '1', '2', '3'], size, images, masks }, [0, 1, 2, 3]), count: 4 };
const engines = Object.fromEntries(
  (['new', 'old'] as const).map((variant) => {
    const model = buildUnet({ depth: 4, baseFilters: 16 });
    return [variant, singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce'))];
  }),
);
const times: Record<string, number[]> = { new: [], old: [] };
const cpuTimes: Record<string, number[]> = { new: [], old: [] };
for (let r = -1; r < rounds; r++) {
  for (const variant of ['new', 'old'] as const) {
    use(variant);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    await engines[variant]!.step(batch, 1e-3);
    const cpu = process.cpuUsage(cpuStart);
    if (r >= 0) times[variant]!.push(performance.now() - start);
    if (r >= 0) cpuTimes[variant]!.push((cpu.user + cpu.system) / 1000);
  }
}
use('new');
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(machineDescription().summary);
console.log(`train step ${size} px, batch 4, ${rounds} interleaved rounds: new ${median(times.new!).toFixed(0)} ms, old ${median(times.old!).toFixed(0)} ms (old/new ${(median(times.old!) / median(times.new!)).toFixed(2)}x)`);
console.log(`CPU time: new ${median(cpuTimes.new!).toFixed(0)} ms, old ${median(cpuTimes.old!).toFixed(0)} ms (old/new ${(median(cpuTimes.old!) / median(cpuTimes.new!)).toFixed(2)}x)`);
console.log(`  new: ${times.new!.map((t) => t.toFixed(0)).join(' ')}\n  old: ${times.old!.map((t) => t.toFixed(0)).join(' ')}`);
