// The U-Net training step (depth 4, base 16, batch 4, BCE, Adam) of this engine and of every PyTorch
// present, interleaved round by round: in each round one step of ours on 1 worker, one of each
// PyTorch on 1 thread, one of ours on 2 workers, one of each PyTorch on 2 threads. This shared VM's
// speed drifts by up to 2x between minutes, so a ratio is taken within each round (neighbouring
// steps see the same machine) and reported as the median over rounds with its range. Run by
// `npm run bench`, or alone: `npx tsx bench/unet-train-interleaved.ts [--size 128] [--rounds 5]`.
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendChoice } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays, type PreparedSlices } from '../src-main/engine/training/slice-cache';
import { parallelStepEngine, singleStepEngine, type StepEngine } from '../src-main/engine/training/step-engine';
import { createRandom } from '../src-main/engine/random/seeded-random';
import { machineDescription } from './machine';
import { startTorchServer, torchPythons, type TorchServer } from './torch-reference';

/** Milliseconds of one step per round, of each contender. */
export interface InterleavedSteps {
  size: number;
  rounds: number;
  oneWorker: number[];
  twoWorkers?: number[];
  torch: { version: string; oneThread: number[]; twoThreads: number[] }[];
}

/** Median and range over rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[], digits = 0): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  return { median: round(sorted[Math.floor(sorted.length / 2)] ?? NaN), min: round(sorted[0] ?? NaN), max: round(sorted[sorted.length - 1] ?? NaN) };
}

/** Per-round ratios `ours[r] / theirs[r]`, as a spread. */
export function ratioSpread(ours: number[], theirs: number[]): Spread {
  return spread(
    ours.map((v, r) => v / theirs[r]!),
    2,
  );
}

export const formatSpread = (s: Spread, unit = '') => `${s.median}${unit} (${s.min}-${s.max}${unit})`;

/** Random CT-like slices in the trainer's in-memory form. */
export function randomSlices(size: number, count: number): PreparedSlices {
  const random = createRandom(size);
  const images = Array.from({ length: count }, () => Uint8Array.from({ length: size * size }, () => random.int(256)));
  const masks = Array.from({ length: count }, () => Uint8Array.from({ length: size * size }, () => (random.next() > 0.8 ? 1 : 0)));
  return { ids: images.map((_, k) => String(k)), size, images, masks };
}

async function engine(size: number, workers: number, backend: BackendChoice): Promise<{ engine: StepEngine; dispose: () => Promise<void> }> {
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  const loss = createLoss('bce');
  const optimizer = createAdamState(model.trainableWeights.map((w) => w.read().size));
  const e = workers > 1 ? await parallelStepEngine(model, optimizer, size, loss, { backend, loss: 'bce', lossOptions: {} }) : singleStepEngine(model, optimizer, size, loss);
  return {
    engine: e,
    dispose: async () => {
      await e.dispose();
      model.dispose();
    },
  };
}

/**
 * `warmup` untimed rounds, then `rounds` timed ones at `size` px; `workers` > 1 adds our 2-worker
 * step; `torch`: servers of bench/torch_unet.py (`--serve`), each timed on 1 and 2 threads.
 */
export async function interleavedUnetSteps(size: number, rounds: number, warmup: number, options: { backend: BackendChoice; workers: number; torch: TorchServer[] }): Promise<InterleavedSteps> {
  const one = await engine(size, 1, options.backend);
  const two = options.workers > 1 ? await engine(size, 2, options.backend) : undefined;
  const batch = { ...batchArrays(randomSlices(size, 4), [0, 1, 2, 3]), count: 4 };
  const result: InterleavedSteps = { size, rounds, oneWorker: [], ...(two ? { twoWorkers: [] } : {}), torch: options.torch.map((t) => ({ version: t.version, oneThread: [], twoThreads: [] })) };
  // The 2-worker step's tail (the worker loading the new weights) overlaps the next step, so each
  // timed step of ours follows an untimed one, as steps follow each other in training.
  const ours = async (e: StepEngine) => {
    // PyTorch's OpenMP threads spin a while after its step: let them go to sleep before ours is timed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (e.workers > 1) await e.step(batch, 1e-3);
    const start = performance.now();
    await e.step(batch, 1e-3);
    return performance.now() - start;
  };
  const theirs = async (server: TorchServer, threads: number) => (await server.request<{ ms: number[] }>({ op: 'train', size, threads, steps: 1 })).ms[0]!;
  for (let r = -warmup; r < rounds; r++) {
    const keep = <T>(list: T[] | undefined, value: T) => void (r >= 0 && list?.push(value));
    keep(result.oneWorker, await ours(one.engine));
    for (const [k, server] of options.torch.entries()) keep(result.torch[k]!.oneThread, await theirs(server, 1));
    if (two) keep(result.twoWorkers, await ours(two.engine));
    for (const [k, server] of options.torch.entries()) keep(result.torch[k]!.twoThreads, await theirs(server, 2));
  }
  await one.dispose();
  await two?.dispose();
  return result;
}

/** Lines for a person: each contender's median step with its range, each ratio with its range over rounds. */
export function describeInterleaved(s: InterleavedSteps): string[] {
  const lines = [`train ${s.size} px, ${s.rounds} interleaved rounds (ms per step, median and range): 1 worker ${formatSpread(spread(s.oneWorker))}${s.twoWorkers ? `, 2 workers ${formatSpread(spread(s.twoWorkers))}` : ''}`];
  for (const t of s.torch) {
    lines.push(`  PyTorch ${t.version}: 1 thread ${formatSpread(spread(t.oneThread))}, 2 threads ${formatSpread(spread(t.twoThreads))}`);
    lines.push(
      `  ratio to PyTorch ${t.version} per round: 1 core ${formatSpread(ratioSpread(s.oneWorker, t.oneThread), 'x')}${s.twoWorkers ? `, 2 cores (2 workers / 2 threads) ${formatSpread(ratioSpread(s.twoWorkers, t.twoThreads), 'x')}` : ''}`,
    );
  }
  if (s.twoWorkers) lines.push(`  2-worker scaling per round: ${formatSpread(ratioSpread(s.oneWorker, s.twoWorkers), 'x')}`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  await selectBackend('wasm');
  const servers = process.argv.includes('--no-torch') ? [] : torchPythons().map((t) => startTorchServer(t, 'torch_unet.py'));
  const steps = await interleavedUnetSteps(Number(arg('size') ?? 128), Number(arg('rounds') ?? 5), Number(arg('warmup') ?? 2), { backend: 'wasm', workers: 2, torch: servers });
  servers.forEach((s) => s.close());
  console.log(machineDescription().summary);
  console.log(describeInterleaved(steps).join('\n'));
}
