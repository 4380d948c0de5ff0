// GAN speed: one pix2pix training step (128 px, batch 4) for the cpu (16 filters) and seed (64
// filters) presets, and generation per image, on this backend; with PyTorch CPU ratios of the same
// architecture (bench/torch_pix2pix.py) when torch is installed. `npm run bench:gan` runs it alone
// (`-- --preset=cpu|seed --runs=N --backend=NAME` narrow it).
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, selectBackend, type BackendChoice } from '../src-main/engine/backend/select-backend';
import { createGanNetworks } from '../src-main/engine/gan/gan-networks';
import { ganStep, netOptimizer, type GanBatch } from '../src-main/engine/gan/gan-step';
import { PRESETS } from '../src-main/engine/gan/gan-config';
import { ratio, runTorchScript, torchPythons } from './torch-reference';

const SIZE = 128;

export interface GanPresetTimes {
  filters: number;
  trainMsPerStep: number;
  generateMsPerImage: number;
}

async function timePreset(filters: number, runs: number): Promise<GanPresetTimes> {
  const nets = createGanNetworks({ kind: 'pix2pix', size: SIZE, planes: 1, generatorFilters: filters, discriminatorFilters: filters, seed: 1 });
  const optimizers = { g: netOptimizer(nets.g), d: netOptimizer(nets.d) };
  const plane = SIZE * SIZE;
  const batch: GanBatch = {
    count: 4,
    size: SIZE,
    planes: 1,
    image: Float32Array.from({ length: 4 * plane }, (_, i) => ((i * 7919) % 255) / 127.5 - 1),
    condition: Float32Array.from({ length: 4 * plane }, (_, i) => ((i * 31) % 5 === 0 ? 1 : 0)),
  };
  ganStep(nets, batch, optimizers, 2e-4, 0);
  let start = performance.now();
  for (let i = 0; i < runs; i++) ganStep(nets, batch, optimizers, 2e-4, i + 1);
  const trainMsPerStep = (performance.now() - start) / runs;
  const condition = tf.tensor4d(batch.condition.subarray(0, plane), [1, SIZE, SIZE, 1]);
  const generate = async (seed: number) => {
    const out = tf.tidy(() => nets.generate(condition, undefined, seed));
    await out.data();
    out.dispose();
  };
  await generate(0);
  start = performance.now();
  for (let i = 0; i < runs * 3; i++) await generate(i + 1);
  const generateMsPerImage = (performance.now() - start) / (runs * 3);
  condition.dispose();
  nets.dispose();
  return { filters, trainMsPerStep: Math.round(trainMsPerStep), generateMsPerImage: Math.round(generateMsPerImage) };
}

type TorchPix2pix = Record<string, { trainMsPerStep: number; generateMsPerImage: number }> & { torch?: string };

/** GAN figures for `npm run bench`: both presets' filter counts at 128 px, batch 4. */
export async function benchGan(runs = 3, only?: 'cpu' | 'seed'): Promise<Record<string, unknown>> {
  const all = { cpu: PRESETS.cpu.generatorFilters, seed: PRESETS.seed.generatorFilters };
  const presets = only ? { [only]: all[only] } : all;
  const ours: Record<string, GanPresetTimes> = {};
  for (const [name, filters] of Object.entries(presets)) ours[name] = await timePreset(filters, runs);
  // The same architecture in every PyTorch present, one thread (our step runs on one).
  const torches = torchPythons().flatMap(({ python, version }) => {
    const figures = runTorchScript<TorchPix2pix>(python, 'torch_pix2pix.py', ['1', String(SIZE), ...Object.values(presets).map(String)]);
    return figures ? [{ version, figures }] : [];
  });
  return {
    shapes: `pix2pix ${SIZE} px, batch 4 (cpu preset 16 filters, seed preset 64 filters; the seed preset trains at 256 px)`,
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
  const result = { backend: describeBackend(backend), ...(await benchGan(runs, only)) };
  console.log(JSON.stringify(result, null, 2));
}
