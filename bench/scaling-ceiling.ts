// The data-parallel ceiling of this machine: one U-Net training step of batch 2 at 128 px (what each
// of two workers computes) timed in one process alone, then in two processes at once. Two replicas
// can go no faster than `2 * alone / together`: below 2x where the two vCPUs share a physical core,
// memory bandwidth or cache, whatever the engine does. Where `taskset` exists, the same step is also
// timed pinned to each vCPU alone: a VM's vCPUs need not be equally fast (a busy host sibling
// thread), and with batch 4 split 2 + 2 the slower one sets the two-worker step's pace. Run by
// `npm run bench`, or alone: `npx tsx bench/scaling-ceiling.ts`.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const STEPS = 6;

async function child(): Promise<void> {
  const { selectBackend } = await import('../src-main/engine/backend/select-backend');
  const { createLoss } = await import('../src-main/engine/losses/segmentation-losses');
  const { buildUnet } = await import('../src-main/engine/models/unet/unet');
  const { createAdamState } = await import('../src-main/engine/training/adam');
  const { batchArrays } = await import('../src-main/engine/training/slice-cache');
  const { singleStepEngine } = await import('../src-main/engine/training/step-engine');
  await selectBackend('wasm');
  const size = 128;
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  const engine = singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce'));
  const images = Array.from({ length: 2 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
  const batch = { ...batchArrays({ ids: ['0', '1'], size, images, masks: images.map((im) => im.map((v) => (v > 200 ? 1 : 0))) }, [0, 1]), count: 2 };
  await engine.step(batch, 1e-3);
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const start = performance.now();
    await engine.step(batch, 1e-3);
    times.push(performance.now() - start);
  }
  console.log(JSON.stringify({ ms: times.sort((a, b) => a - b)[STEPS >> 1] }));
}

function runChild(cpu?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), '--child'];
    const [command, ...args] = cpu === undefined ? node : ['taskset', '-c', String(cpu), ...node];
    const proc = spawn(command!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`scaling probe child failed (exit ${code})`));
      else resolve((JSON.parse(line) as { ms: number }).ms);
    });
  });
}

export interface ScalingCeiling {
  aloneMs: number;
  togetherMs: number;
  ceiling: number;
  /** The step pinned to each vCPU in turn (alone), when `taskset` is present and there are 2 or more. */
  perCpuMs?: number[];
  /** `2 * fastest / slowest` of `perCpuMs`: the two-worker ceiling against one worker on the fastest vCPU. */
  evenSplitCeiling?: number;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Median step of one replica alone and of two at once (`ceiling = 2 * alone / together`), and per vCPU. */
export async function scalingCeiling(): Promise<ScalingCeiling> {
  const aloneMs = await runChild();
  const together = await Promise.all([runChild(), runChild()]);
  const togetherMs = Math.max(...together);
  const result: ScalingCeiling = { aloneMs: Math.round(aloneMs), togetherMs: Math.round(togetherMs), ceiling: round2((2 * aloneMs) / togetherMs) };
  const cpus = availableParallelism();
  if (cpus >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0) {
    const perCpuMs: number[] = [];
    for (let cpu = 0; cpu < cpus; cpu++) perCpuMs.push(Math.round(await runChild(cpu)));
    result.perCpuMs = perCpuMs;
    result.evenSplitCeiling = round2((2 * Math.min(...perCpuMs)) / Math.max(...perCpuMs));
  }
  return result;
}

if (process.argv.includes('--child')) await child();
else if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await scalingCeiling());
