// GAN speed: one pix2pix training step (128 px, batch 4) for the cpu (16 filters) and seed (64
// filters) presets on one worker and on two data-parallel workers, and generation per image, on this backend; with PyTorch CPU ratios of the same
// architecture (bench/torch_pix2pix.py) when torch is installed. `npm run bench:gan` runs it alone
// (`-- --preset=cpu|seed --runs=N --backend=NAME` narrow it).
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, selectBackend, type BackendChoice } from '../src-main/engine/backend/select-backend';
import { createGanNetworks, type NetworkOptions } from '../src-main/engine/gan/gan-networks';
import { netOptimizer, parallelGanStepEngine, singleGanStepEngine, type GanBatch } from '../src-main/engine/gan/gan-step';
import { PRESETS } from '../src-main/engine/gan/gan-config';
import { resolveWorkers } from '../src-main/engine/training/step-engine';
import { ratio, runTorchScript, torchPythons } from './torch-reference';

const SIZE = 128;

export interface GanPresetTimes {
  filters: number;
  /** One worker (this thread). */
  trainMsPerStep: number;
  /** Two data-parallel workers (this thread and one worker thread), when the backend uses them. */
  trainMsPerStepTwoWorkers?: number;
  generateMsPerImage: number;
}

function benchBatch(): GanBatch {
  const plane = SIZE * SIZE;
  return {
    count: 4,
    size: SIZE,
    planes: 1,
    image: Float32Array.from({ length: 4 * plane }, (_, i) => ((i * 7919) % 255) / 127.5 - 1),
    condition: Float32Array.from({ length: 4 * plane }, (_, i) => ((i * 31) % 5 === 0 ? 1 : 0)),
  };
}

/**
 * Training steps with one and with two workers, interleaved (1, 2, 1, 2, ...) so that other load on
 * the machine hits both alike; each engine takes one warm-up step first.
 */
async function timeSteps(filters: number, runs: number, backend: BackendChoice, twoWorkers: boolean): Promise<{ one: number; two?: number }> {
  const options: NetworkOptions = { kind: 'pix2pix', size: SIZE, planes: 1, generatorFilters: filters, discriminatorFilters: filters, seed: 1 };
  const batch = benchBatch();
  const setups = [1, ...(twoWorkers ? [2] : [])].map((workers) => {
    const nets = createGanNetworks(options);
    const optimizers = { g: netOptimizer(nets.g), d: netOptimizer(nets.d) };
    return { nets, engine: workers === 2 ? parallelGanStepEngine(nets, optimizers, { backend, networks: options }) : Promise.resolve(singleGanStepEngine(nets, optimizers)) };
  });
  const engines = await Promise.all(setups.map((s) => s.engine));
  for (const engine of engines) await engine.step(batch, 2e-4, 1);
  const totals = engines.map(() => 0);
  for (let i = 0; i < runs; i++) {
    for (const [k, engine] of engines.entries()) {
      const start = performance.now();
      await engine.step(batch, 2e-4, i + 2);
      totals[k]! += performance.now() - start;
    }
  }
  for (const [k, engine] of engines.entries()) {
    await engine.dispose();
    setups[k]!.nets.dispose();
  }
  return { one: totals[0]! / runs, ...(twoWorkers ? { two: totals[1]! / runs } : {}) };
}

async function timePreset(filters: number, runs: number, backend: BackendChoice, twoWorkers: boolean): Promise<GanPresetTimes> {
  const steps = await timeSteps(filters, runs, backend, twoWorkers);
  const nets = createGanNetworks({ kind: 'pix2pix', size: SIZE, planes: 1, generatorFilters: filters, discriminatorFilters: filters, seed: 1 });
  const condition = tf.tensor4d(benchBatch().condition.subarray(0, SIZE * SIZE), [1, SIZE, SIZE, 1]);
  const generate = async (seed: number) => {
    const out = tf.tidy(() => nets.generate(condition, undefined, seed));
    await out.data();
    out.dispose();
  };
  await generate(0);
  const start = performance.now();
  for (let i = 0; i < runs * 3; i++) await generate(i + 1);
  const generateMsPerImage = (performance.now() - start) / (runs * 3);
  condition.dispose();
  nets.dispose();
  return {
    filters,
    trainMsPerStep: Math.round(steps.one),
    ...(steps.two !== undefined ? { trainMsPerStepTwoWorkers: Math.round(steps.two) } : {}),
    generateMsPerImage: Math.round(generateMsPerImage),
  };
}

type TorchPix2pix = Record<string, { trainMsPerStep: number; generateMsPerImage: number }> & { torch?: string };

/**
 * GAN figures for `npm run bench`: both presets' filter counts at 128 px, batch 4, with one worker
 * and (on backends that train data-parallel, `resolveWorkers`) two.
 */
export async function benchGan(runs = 3, only?: 'cpu' | 'seed', backend: BackendChoice = 'auto'): Promise<Record<string, unknown>> {
  const all = { cpu: PRESETS.cpu.generatorFilters, seed: PRESETS.seed.generatorFilters };
  const presets = only ? { [only]: all[only] } : all;
  const ours: Record<string, GanPresetTimes> = {};
  const twoWorkers = resolveWorkers(0, await selectBackend(backend)) > 1;
  for (const [name, filters] of Object.entries(presets)) ours[name] = await timePreset(filters, runs, backend, twoWorkers);
  // The same architecture in every PyTorch present, one thread (our step runs on one).
  const torches = torchPythons().flatMap(({ python, version }) => {
    const figures = runTorchScript<TorchPix2pix>(python, 'torch_pix2pix.py', ['1', String(SIZE), ...Object.values(presets).map(String)]);
    return figures ? [{ version, figures }] : [];
  });
  return {
    shapes: `pix2pix ${SIZE} px, batch 4 (cpu preset 16 filters, seed preset 64 filters; the seed preset trains at 256 px); trainMsPerStep on 1 worker, trainMsPerStepTwoWorkers data-parallel on 2, runs interleaved`,
    ...ours,
    pytorchOneThread: torches.length
      ? torches.map(({ version, figures }) => ({
          version,
          figures,
          ratios: Object.fromEntries(
            Object.entries(ours).map(([name, t]) => [name, { train: ratio(t.trainMsPerStep, figures[`filters${t.filters}`]?.trainMsPerStep), generate: ratio(t.generateMsPerImage, figures[`filters${t.filters}`]?.generateMsPerImage) }]),
          ),
        }))
      : 'no PyTorch found (python3-torch, or COVSEG_PYTHON=a Python with torch)',
  };
}

if (process.argv[1]?.endsWith('gan-bench.ts')) {
  const backendArg = process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1] as BackendChoice | undefined;
  const backend = await selectBackend(backendArg ?? 'auto');
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 3);
  const only = process.argv.find((a) => a.startsWith('--preset='))?.split('=')[1] as 'cpu' | 'seed' | undefined;
  const result = { backend: describeBackend(backend), ...(await benchGan(runs, only, backendArg ?? 'auto')) };
  console.log(JSON.stringify(result, null, 2));
}
