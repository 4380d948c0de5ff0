// The data-parallel ceiling of this machine: one U-Net training step of batch 2 at 128 px (what each
// of two workers computes) timed in one process alone, then in two processes at once. Two replicas
// can go no faster than `2 * alone / together`: below 2x where the two vCPUs share a physical core,
// memory bandwidth or cache, whatever the engine does. Run by `npm run bench`, or alone:
// `npx tsx bench/scaling-ceiling.ts`.
import { spawn } from 'node:child_process';
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

function runChild(): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], { stdio: ['ignore', 'pipe', 'ignore'] });
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

/** Median step of one replica alone and of two at once; `ceiling = 2 * alone / together`. */
export async function scalingCeiling(): Promise<{ aloneMs: number; togetherMs: number; ceiling: number }> {
  const aloneMs = await runChild();
  const together = await Promise.all([runChild(), runChild()]);
  const togetherMs = Math.max(...together);
  return { aloneMs: Math.round(aloneMs), togetherMs: Math.round(togetherMs), ceiling: Math.round(((2 * aloneMs) / togetherMs) * 100) / 100 };
}

if (process.argv.includes('--child')) await child();
else if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await scalingCeiling());
