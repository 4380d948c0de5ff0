// `npx tsx bench/parallel-ab.ts [--size 128] [--rounds 6] [--baseline DIR]`: the data-parallel step
// (2 workers, batch 4 as 2 + 2) against the single-threaded one (batch 4), and, with `--baseline`, both
// engines and the batch-norm kernels of another checkout (e.g. `git archive <commit> | tar -x -C DIR`
// plus a node_modules link), all interleaved step by step so that load from other processes hits them alike. Prints
// medians of wall time and of each thread's CPU time (from /proc/self/task/*/schedstat, Linux): on a
// loaded machine the busiest thread's CPU time plus the one-thread tail is what a quiet machine's
// wall time would approach.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../src-main/engine/backend/batch-norm-training';
import { stockKernels } from '../src-main/engine/backend/kernel-calls';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import * as current from '../src-main/engine/training/step-engine';
import { machineDescription } from './machine';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const size = Number(arg('size') ?? 128);
const rounds = Number(arg('rounds') ?? 6);
// Untimed rounds first (each engine's worker compiles its own code; V8 keeps optimising for tens of steps).
const warmup = Number(arg('warmup') ?? 1);
const baselineDir = arg('baseline');
await selectBackend('wasm');

/** CPU milliseconds so far of each thread of this process. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
const masks = images.map((im) => im.map((v) => (v > 200 ? 1 : 0)));
const batch = { ...batchArrays({ ids: ['0', '1', '2', '3'], size, images, masks }, [0, 1, 2, 3]), count: 4 };
const setup = { backend: 'wasm' as const, loss: 'bce', lossOptions: {} };
type Engines = typeof current;
const baseline = baselineDir ? ((await import(pathToFileURL(resolve(baselineDir, 'src-main/engine/training/step-engine.ts')).href)) as Engines) : undefined;

// Kernels are registered process-wide: the baseline's own (its batch norm, its Concat and SplitV; no
// Cast of its own) are swapped in before each of its steps on this thread. Its worker thread loads
// the baseline whole.
const swapped = [BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, 'Cast', 'Concat', 'SplitV'];
const kernelSets: Record<'current' | 'baseline', tf.KernelConfig[]> = { current: swapped.map((k) => tf.getKernel(k, 'wasm')!), baseline: [] };
if (baselineDir) {
  const warn = console.warn;
  console.warn = () => {};
  ((await import(pathToFileURL(resolve(baselineDir, 'src-main/engine/backend/batch-norm-training.ts')).href)) as { registerBatchNormTraining(): void }).registerBatchNormTraining();
  console.warn = warn;
  const baselineKernel = async (name: string, file: string, exported: string): Promise<tf.KernelConfig> => {
    const module = (await import(pathToFileURL(resolve(baselineDir, 'src-main/engine/backend/wasm-kernels', file)).href)) as Record<string, tf.KernelFunc>;
    return { kernelName: name, backendName: 'wasm', kernelFunc: module[exported]! };
  };
  kernelSets.baseline = [
    tf.getKernel(BATCH_NORM_TRAINING, 'wasm')!,
    tf.getKernel(BATCH_NORM_TRAINING_GRAD, 'wasm')!,
    stockKernels.get('Cast')!,
    await baselineKernel('Concat', 'concat.ts', 'concat'),
    await baselineKernel('SplitV', 'split-v.ts', 'splitV'),
  ];
}
function useKernels(set: 'current' | 'baseline'): void {
  for (const config of kernelSets[set]) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

const models: Record<string, ReturnType<typeof buildUnet>> = {};
async function engine(name: string, make: (model: ReturnType<typeof buildUnet>, optimizer: ReturnType<typeof createAdamState>) => Promise<current.StepEngine> | current.StepEngine) {
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  models[name] = model;
  return [name, await make(model, createAdamState(model.trainableWeights.map((w) => w.read().size)))] as const;
}
const engines = [
  await engine('1 worker', (m, o) => current.singleStepEngine(m, o, size, createLoss('bce'))),
  await engine('2 workers', (m, o) => current.parallelStepEngine(m, o, size, createLoss('bce'), setup)),
  ...(baseline
    ? [await engine('1 worker, baseline', (m, o) => baseline.singleStepEngine(m, o, size, createLoss('bce'))), await engine('2 workers, baseline', (m, o) => baseline.parallelStepEngine(m, o, size, createLoss('bce'), setup))]
    : []),
];
const main = String(process.pid);
const samples = new Map(engines.map(([name]) => [name, { wall: [] as number[], main: [] as number[], other: [] as number[], rest: [] as number[], total: [] as number[] }]));
for (let r = -warmup; r < rounds; r++) {
  for (const [name, e] of engines) {
    useKernels(name.endsWith('baseline') ? 'baseline' : 'current');
    // Each timed step follows an untimed one of the same engine, as in training: what a step leaves
    // running on the worker (since issue #14's third round, its load of the new weights) is counted.
    await e.step(batch, 1e-3);
    const before = threadCpu();
    const start = performance.now();
    await e.step(batch, 1e-3);
    const wall = performance.now() - start;
    const deltas = [...threadCpu()].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const);
    if (r < 0) continue;
    const s = samples.get(name)!;
    s.wall.push(wall);
    s.main.push(deltas.find(([tid]) => tid === main)?.[1] ?? 0);
    const others = deltas.filter(([tid]) => tid !== main).map(([, ms]) => ms);
    s.other.push(Math.max(0, ...others));
    // V8's helper threads (garbage collection, compilation) compete for the same cores.
    s.rest.push(others.reduce((a, b) => a + b, 0) - Math.max(0, ...others));
    s.total.push(deltas.reduce((a, [, ms]) => a + ms, 0));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(machineDescription().summary);
console.log(`U-Net depth 4 base 16, ${size} px, batch 4, ${rounds} interleaved rounds after ${warmup} untimed; medians (ms): wall, CPU of the main thread, of the busiest other thread, of all the rest, of all threads`);
for (const [name] of engines) {
  const s = samples.get(name)!;
  console.log(`${name.padEnd(22)} wall ${median(s.wall).toFixed(0).padStart(6)}   main ${median(s.main).toFixed(0).padStart(6)}   other ${median(s.other).toFixed(0).padStart(6)}   rest ${median(s.rest).toFixed(0).padStart(4)}   total ${median(s.total).toFixed(0).padStart(6)}`);
}
const single = samples.get('1 worker')!;
const two = samples.get('2 workers')!;
const scaling = (one: typeof single, both: typeof two) =>
  `wall ${(median(one.wall) / median(both.wall)).toFixed(2)}x, by CPU ${(median(one.main) / Math.max(median(both.main), median(both.other))).toFixed(2)}x, by total CPU ${((2 * median(one.total)) / median(both.total)).toFixed(2)}x`;
// By CPU: the 1-worker step's CPU time over the busier thread's of the 2-worker step, what a quiet
// machine would approach if the two threads did not slow each other down (shared caches, memory).
// By total CPU: twice the 1-worker step's CPU (all threads) over the 2-worker step's, what two
// always-busy cores would give once V8's helper threads (compiling, collecting) share them too.
console.log(`scaling 1 -> 2 workers: ${scaling(single, two)}${baseline ? `; baseline ${scaling(samples.get('1 worker, baseline')!, samples.get('2 workers, baseline')!)}` : ''}`);
if (baseline) {
  // Per round, each engine's CPU (all threads) against the baseline's in the same round, where both saw
  // the same load; the median of those ratios drifts less than a ratio of medians.
  const paired = (name: string) => {
    const a = samples.get(name)!.total;
    const b = samples.get(`${name}, baseline`)!.total;
    const ratios = a.map((v, k) => v / b[k]!);
    return `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
  };
  console.log(`total CPU against the baseline's, per round, median (range): 1 worker ${paired('1 worker')}, 2 workers ${paired('2 workers')}`);
  // Same start, same batches, same arithmetic: the two 2-worker engines must agree bit for bit.
  const flat = (name: string) => tf.tidy(() => tf.concat(models[name]!.getWeights().map((w) => tf.reshape(w, [-1]))).dataSync());
  const a = flat('2 workers');
  const b = flat('2 workers, baseline');
  console.log(`2-worker weights after ${2 * (rounds + warmup)} steps equal to the baseline's bit for bit: ${a.every((v, i) => Object.is(v, b[i]))}`);
}
useKernels('current');
for (const [, e] of engines) await e.dispose();
