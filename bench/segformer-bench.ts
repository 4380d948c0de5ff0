// SegFormer-B0 figures for `npm run bench`: training step and inference (batch 4, BCE, AdamW) on the
// selected backend, where a training step's time goes, per kernel, and ratios against the same
// architecture in each PyTorch present (bench/torch_segformer.py).
import * as tf from '@tensorflow/tfjs-core';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { createModel } from '../src-main/engine/models/registry';
import { adamSettingsFor, createAdamState } from '../src-main/engine/training/adam';
import { singleStepEngine, type Batch } from '../src-main/engine/training/step-engine';
import { ratio, runTorchScript, torchPythons } from './torch-reference';

/** Seeded random batch of `count` CT-like slices with sparse lesion masks. */
function randomBatch(size: number, count: number): Batch {
  return tf.tidy(() => ({
    x: tf.randomUniform([count * size * size], 0, 1, 'float32', 11).dataSync() as Float32Array,
    y: tf.cast(tf.greater(tf.randomUniform([count * size * size], 0, 1, 'float32', 12), 0.8), 'float32').dataSync() as Float32Array,
    count,
  }));
}

export interface SegformerBench {
  shapes: string;
  size: number;
  /** Wall time, and this thread's CPU time (what a shared, loaded machine does not inflate). */
  train: { msPerStep: number; cpuMsPerStep: number; imagesPerSecond: number };
  inference: { msPerSlice: number };
  kernelProfile: { kernel: string; ms: number; share: number }[];
}

/** Times SegFormer-B0 training steps and single-slice inference; profiles one step by kernel. */
export async function benchSegformer(size: number, runs: number): Promise<SegformerBench> {
  const model = createModel('segformer', { variant: 'b0' });
  const engine = singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce'), adamSettingsFor({ name: 'adamw', weightDecay: 0.01 }));
  const batch = randomBatch(size, 4);
  await engine.step(batch, 6e-5);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < runs; i++) await engine.step(batch, 6e-5);
  const cpu = process.cpuUsage(cpuStart);
  const msPerStep = (performance.now() - start) / runs;
  const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / runs;
  const info = await tf.profile(async () => void (await engine.step(batch, 6e-5)));
  const byKernel = new Map<string, number>();
  for (const k of info.kernels.filter((k) => !k.name.endsWith('__op'))) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  const kernelProfile = [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([kernel, ms]) => ({ kernel, ms: Math.round(ms * 10) / 10, share: Math.round((ms / total) * 1000) / 10 }));
  const slice = tf.randomUniform([1, size, size, 1], 0, 1, 'float32', 3);
  // Read outside tidy: tidy would scan a returned typed array element by element.
  const infer = () => {
    const logits = tf.tidy(() => model.apply(slice, { training: false }) as tf.Tensor);
    logits.dataSync();
    logits.dispose();
  };
  infer();
  const inferStart = performance.now();
  for (let i = 0; i < runs; i++) infer();
  const msPerSlice = (performance.now() - inferStart) / runs;
  slice.dispose();
  await engine.dispose();
  model.dispose();
  return {
    shapes: `SegFormer-B0 (1 class), ${size} px, batch 4, BCE + AdamW`,
    size,
    train: { msPerStep: Math.round(msPerStep), cpuMsPerStep: Math.round(cpuMsPerStep), imagesPerSecond: Math.round((4000 / msPerStep) * 10) / 10 },
    inference: { msPerSlice: Math.round(msPerSlice) },
    kernelProfile,
  };
}

export interface SegformerTorchRatios {
  torch: string;
  threads: number;
  /** PyTorch ms per step and per slice, by size, and ours divided by theirs. */
  figures: Record<string, { trainMs: number; inferMs: number; trainRatio: number | null; inferRatio: number | null }>;
}

/** The same SegFormer-B0 step in every PyTorch present, 1 thread (our wasm step runs on one thread). */
export function segformerTorchRatios(ours: SegformerBench[], runs: number): SegformerTorchRatios[] {
  const sizes = ours.map((o) => o.size).join(',');
  return torchPythons().flatMap(({ python }) => {
    const reference = runTorchScript<Record<string, number | string>>(python, 'torch_segformer.py', ['1', sizes, String(runs)]);
    if (!reference) return [];
    const figures = Object.fromEntries(
      ours.map((o) => {
        const trainMs = Number(reference[`train${o.size}`]);
        const inferMs = Number(reference[`infer${o.size}`]);
        return [`${o.size}px`, { trainMs: Math.round(trainMs), inferMs: Math.round(inferMs), trainRatio: ratio(o.train.msPerStep, trainMs), inferRatio: ratio(o.inference.msPerSlice, inferMs) }];
      }),
    );
    return [{ torch: String(reference.torch), threads: 1, figures }];
  });
}

// `npm run bench:segformer [-- --sizes=128,256 --runs=N]`: these figures alone, with the ratios.
if (process.argv[1]?.endsWith('segformer-bench.ts')) {
  const { describeBackend, selectBackend } = await import('../src-main/engine/backend/select-backend');
  const { machineDescription } = await import('./machine');
  const backend = await selectBackend('auto');
  const sizes = (process.argv.find((a) => a.startsWith('--sizes='))?.split('=')[1] ?? '128').split(',').map(Number);
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 3);
  const ours: SegformerBench[] = [];
  for (const size of sizes) ours.push(await benchSegformer(size, runs));
  const torch = segformerTorchRatios(ours, runs);
  console.log(JSON.stringify({ machine: machineDescription(), backend: describeBackend(backend), segformerB0: ours.map(({ kernelProfile: _, ...o }) => o), pytorch: torch }, null, 2));
  for (const o of ours) console.log(`SegFormer-B0 ${o.size} px, batch 4: train ${o.train.msPerStep} ms/step (CPU ${o.train.cpuMsPerStep} ms), inference ${o.inference.msPerSlice} ms/slice`);
  for (const t of torch) console.log(`vs PyTorch ${t.torch}, 1 thread: ${Object.entries(t.figures).map(([size, f]) => `${size} train ${f.trainMs} ms (${f.trainRatio}x), inference ${f.inferMs} ms (${f.inferRatio}x)`).join('; ')}`);
}
