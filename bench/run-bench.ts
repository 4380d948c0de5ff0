// `npm run bench`: speed of the training engine on this machine, printed as JSON and as a table.
// Shapes: U-Net depth 4, base 16 filters, batch 4, BCE, Adam — training at 128 and 256 px,
// inference of one 256-px slice (tfjs and, when installed, ONNX Runtime); where the time goes (per kernel); ratios
// against every PyTorch present: Debian's python3-torch and COVSEG_PYTHON's (a reference only, never a test).
// The training steps of ours and PyTorch's run interleaved round by round (bench/unet-train-interleaved.ts):
// this VM drifts too much for ratios of figures taken minutes apart.
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, selectBackend, type BackendChoice } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { inferenceCopy, resolveModelSpec } from '../src-main/engine/models/registry';
import { exportOnnx } from '../src-main/engine/onnx/export-onnx';
import { createOnnxEngine, loadOnnxRuntime } from '../src-main/engine/onnx/segmentation-engine';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { composeRecipe, PRESET_RECIPES } from '../src-main/engine/transforms/recipes';
import { sampleFromBytes } from '../src-main/engine/transforms/sample';
import { createRandom } from '../src-main/engine/random/seeded-random';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { resolveWorkers, singleStepEngine } from '../src-main/engine/training/step-engine';
import { benchGan, type GanPresetTimes } from './gan-bench';
import { machineDescription } from './machine';
import { scalingCeiling } from './scaling-ceiling';
import { benchSegformer, segformerTorchRatios } from './segformer-bench';
import { startTorchServer, torchPythons } from './torch-reference';
import { describeInterleaved, interleavedUnetSteps, randomSlices, ratioSpread, spread, type InterleavedSteps } from './unet-train-interleaved';

const backendFlag = process.argv.indexOf('--backend');
const backendChoice = (process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1] ?? (backendFlag >= 0 ? process.argv[backendFlag + 1] : undefined) ?? 'auto') as BackendChoice;
const quick = process.argv.includes('--quick');

// Async: the webgpu backend can only read results back asynchronously in Node.
async function timeIt(fn: () => Promise<unknown>, warmup: number, runs: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
}

async function kernelProfile(size: number): Promise<{ kernel: string; ms: number; share: number }[]> {
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  const loss = createLoss('bce');
  const slices = randomSlices(size, 4);
  const engine = singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, loss);
  const batch = { ...batchArrays(slices, [0, 1, 2, 3]), count: 4 };
  await engine.step(batch, 1e-3);
  const info = await tf.profile(async () => void (await engine.step(batch, 1e-3)));
  model.dispose();
  const byKernel = new Map<string, number>();
  // tf.profile also lists op wrappers (`fusedConv2d__op`) around kernels: count kernels only.
  // Without timestamp queries the webgpu backend reports an error object instead of a time.
  for (const k of info.kernels.filter((k) => !k.name.endsWith('__op') && typeof k.kernelTimeMs === 'number')) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  return [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([kernel, ms]) => ({ kernel, ms: Math.round(ms * 10) / 10, share: Math.round((ms / total) * 1000) / 10 }));
}

const backend = await selectBackend(backendChoice);
const workers = resolveWorkers(0, backend);
// Every PyTorch present (Debian's python3-torch, COVSEG_PYTHON's): versions differ in speed here.
const torchServers = quick ? [] : torchPythons().map((t) => startTorchServer(t, 'torch_unet.py'));
const interleaved = {
  px128: await interleavedUnetSteps(128, quick ? 2 : 6, 2, { backend: backendChoice, workers, torch: torchServers }),
  px256: await interleavedUnetSteps(256, quick ? 1 : 3, 1, { backend: backendChoice, workers, torch: torchServers }),
};
const median = (values: number[]) => spread(values, 1).median;
const train128 = median(interleaved.px128.oneWorker);
const train256 = median(interleaved.px256.oneWorker);
const parallel128 = interleaved.px128.twoWorkers && median(interleaved.px128.twoWorkers);
const parallel256 = interleaved.px256.twoWorkers && median(interleaved.px256.twoWorkers);
/** PyTorch's inference of one 256-px slice: mean of 10 after 2 untimed, as bench/torch_unet.py alone. */
const torchInference = async (server: (typeof torchServers)[number], threads: number) => {
  const { ms } = await server.request<{ ms: number[] }>({ op: 'infer', size: 256, threads, steps: 12 });
  return ms.slice(2).reduce((a, b) => a + b, 0) / (ms.length - 2);
};
const torchInfer = await Promise.all(torchServers.map(async (server) => ({ one: await torchInference(server, 1), two: await torchInference(server, 2) })));
torchServers.forEach((server) => server.close());
// What two replicas could reach on this machine at best (shared core, cache or memory bandwidth).
const ceiling = workers > 1 && !quick ? await scalingCeiling() : undefined;
// The path `covseg predict` and evaluation take: batch norm folded into the convolutions.
const inferModel = inferenceCopy(buildUnet({ depth: 4, baseFilters: 16 }), resolveModelSpec('unet', { depth: 4, baseFilters: 16 })).model;
const slice = tf.randomUniform([1, 256, 256, 1], 0, 1, 'float32', 3);
const infer256 = await timeIt(async () => {
  const out = tf.tidy(() => inferModel.apply(slice, { training: false }) as tf.Tensor);
  await out.data();
  out.dispose();
}, 2, quick ? 3 : 10);

/** ONNX Runtime (CPU provider) on the same folded model: ms per 256-px slice, and per 100-slice volume in batches of 4. */
async function onnxTimes(threads: number): Promise<{ msPerSlice: number; msPer100Slices?: number }> {
  const engine = await createOnnxEngine(exportOnnx(inferModel), { threads });
  const one = new Float32Array(256 * 256).map((_, i) => ((i * 7919) % 256) / 255);
  for (let i = 0; i < 2; i++) await engine.run(one, 1, 256);
  const runs = quick ? 3 : 10;
  let start = performance.now();
  for (let i = 0; i < runs; i++) await engine.run(one, 1, 256);
  const msPerSlice = (performance.now() - start) / runs;
  if (quick) return { msPerSlice };
  const four = new Float32Array(4 * 256 * 256).map((_, i) => ((i * 7919) % 256) / 255);
  start = performance.now();
  for (let b = 0; b < 25; b++) await engine.run(four, 4, 256);
  const msPer100Slices = performance.now() - start;
  engine.dispose();
  return { msPerSlice, msPer100Slices };
}
const onnxAvailable = Boolean(await loadOnnxRuntime());
const onnx1 = onnxAvailable ? await onnxTimes(1) : undefined;
const onnx2 = onnxAvailable ? await onnxTimes(2) : undefined;
const profile = await kernelProfile(128);
const segformer128 = await benchSegformer(128, quick ? 1 : 3);
const segformer256 = quick ? undefined : await benchSegformer(256, 2);
const segformerTorch = quick ? [] : segformerTorchRatios(segformer256 ? [segformer128, segformer256] : [segformer128], 2);
const gan128 = await benchGan(quick ? 1 : 3, undefined, backendChoice);

/** Augmented 256-px samples per second for a recipe, on this thread (where the trainer runs it). */
async function augmentationRate(name: string): Promise<number> {
  const apply = composeRecipe(PRESET_RECIPES[name]!);
  const pool = randomSlices(256, 8);
  const samples = pool.images.map((image, k) => sampleFromBytes(256, 256, image, pool.masks[k]!));
  const context = { partner: (r: ReturnType<typeof createRandom>) => samples[r.int(samples.length)]! };
  const n = quick ? 8 : 40;
  const start = performance.now();
  for (let i = 0; i < n; i++) await apply(samples[i % samples.length]!, createRandom(i), context);
  return (n * 1000) / (performance.now() - start);
}
const augmentation = Object.fromEntries(await Promise.all(['fliprot+elastic', 'fliprot+mixup+jpeg', 'mixup+jpeg'].map(async (name) => [name, Math.round(await augmentationRate(name))] as const)));
const consumed256 = 4000 / (parallel256 ?? train256);
const r2 = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 100) / 100 : null);
/** Each PyTorch's medians (training, interleaved with ours) and inference, as the ratios below use them. */
const torches = torchServers.map((server, k) => {
  const of = (steps: InterleavedSteps) => steps.torch[k]!;
  return {
    version: server.version,
    one: { train128: median(of(interleaved.px128).oneThread), train256: median(of(interleaved.px256).oneThread), infer256: torchInfer[k]!.one },
    two: { train128: median(of(interleaved.px128).twoThreads), train256: median(of(interleaved.px256).twoThreads), infer256: torchInfer[k]!.two },
    /** Ratios within each round, median and range: what survives this VM's drift. */
    perRound: {
      train128VsOneThread: ratioSpread(interleaved.px128.oneWorker, of(interleaved.px128).oneThread),
      train256VsOneThread: ratioSpread(interleaved.px256.oneWorker, of(interleaved.px256).oneThread),
      ...(interleaved.px128.twoWorkers ? { train128TwoWorkersVsTwoThreads: ratioSpread(interleaved.px128.twoWorkers, of(interleaved.px128).twoThreads) } : {}),
      ...(interleaved.px256.twoWorkers ? { train256TwoWorkersVsTwoThreads: ratioSpread(interleaved.px256.twoWorkers, of(interleaved.px256).twoThreads) } : {}),
    },
  };
});

const machine = machineDescription();
const result = {
  // Every figure below was measured on this CPU: ratios to PyTorch differ between CPUs (PyTorch uses
  // AVX2/AVX-512 and FMA; wasm has 128-bit SIMD whatever the CPU), so never quote them without it.
  machine,
  backend: describeBackend(backend),
  ...(backend.adapter ? { adapter: backend.adapter } : {}),
  ...(backend.adapter?.software ? { note: 'software WebGPU adapter (CPU emulation): figures show correctness only, not GPU speed' } : {}),
  shapes: 'U-Net depth 4, base 16, batch 4, BCE + Adam',
  train128: { msPerStep: Math.round(train128), imagesPerSecond: Math.round((4000 / train128) * 10) / 10 },
  train256: { msPerStep: Math.round(train256), imagesPerSecond: Math.round((4000 / train256) * 10) / 10 },
  dataParallel2: parallel128 && parallel256
    ? {
        train128: { msPerStep: Math.round(parallel128), imagesPerSecond: Math.round((4000 / parallel128) * 10) / 10, speedup: Math.round((train128 / parallel128) * 100) / 100, speedupPerRound: ratioSpread(interleaved.px128.oneWorker, interleaved.px128.twoWorkers!) },
        train256: { msPerStep: Math.round(parallel256), imagesPerSecond: Math.round((4000 / parallel256) * 10) / 10, speedup: Math.round((train256 / parallel256) * 100) / 100, speedupPerRound: ratioSpread(interleaved.px256.oneWorker, interleaved.px256.twoWorkers!) },
        idealSpeedup: 2,
        machineCeiling: ceiling ?? 'not measured with --quick',
      }
    : 'one core or a native backend: no data-parallel figures',
  inference256: { msPerSlice: Math.round(infer256) },
  onnxRuntime256: onnx1 && onnx2
    ? {
        oneThread: { msPerSlice: Math.round(onnx1.msPerSlice), msPer100Slices: onnx1.msPer100Slices && Math.round(onnx1.msPer100Slices) },
        twoThreads: { msPerSlice: Math.round(onnx2.msPerSlice), msPer100Slices: onnx2.msPer100Slices && Math.round(onnx2.msPer100Slices) },
      }
    : 'onnxruntime-node not installed',
  augmentation256: {
    imagesPerSecond: augmentation,
    trainingConsumesImagesPerSecond: Math.round(consumed256 * 10) / 10,
    headroom: Object.fromEntries(Object.entries(augmentation).map(([k, v]) => [k, Math.round((v / consumed256) * 10) / 10])),
  },
  kernelProfile128: profile,
  segformerB0: { px128: segformer128, ...(segformer256 ? { px256: segformer256 } : {}), pytorch: segformerTorch.length ? segformerTorch : 'no PyTorch found (python3-torch, or COVSEG_PYTHON=a Python with torch)' },
  pix2pix128: gan128,
  trainingStepsPerRound: interleaved,
  pytorch: torches.length
    ? torches.map(({ version, one, two, perRound }) => ({
        version,
        oneThread: one,
        twoThreads: two,
        ratiosPerRound: perRound,
        // Of the medians: for the training steps, prefer ratiosPerRound.
        ratios: {
          train128VsOneThread: r2(train128, one.train128),
          train256VsOneThread: r2(train256, one.train256),
          inference256VsOneThread: r2(infer256, one.infer256),
          inference256VsTwoThreads: r2(infer256, two.infer256),
          onnxInference256VsOneThread: onnx1 ? r2(onnx1.msPerSlice, one.infer256) : null,
          onnxInference256VsTwoThreads: onnx2 ? r2(onnx2.msPerSlice, two.infer256) : null,
          train128TwoWorkersVsTwoThreads: parallel128 ? r2(parallel128, two.train128) : null,
          train256TwoWorkersVsTwoThreads: parallel256 ? r2(parallel256, two.train256) : null,
        },
      }))
    : 'no PyTorch found: no reference ratios (apt-get install python3-torch, or COVSEG_PYTHON=a Python with torch)',
};
console.log(JSON.stringify(result, null, 2));
console.log(`\n${machine.summary}`);
console.log(result.backend);
if (backend.adapter?.software) console.log('software WebGPU adapter (CPU emulation): these figures show correctness only, not GPU speed');
console.log(`train 128 px: ${result.train128.msPerStep} ms/step (${result.train128.imagesPerSecond} images/s)`);
console.log(`train 256 px: ${result.train256.msPerStep} ms/step (${result.train256.imagesPerSecond} images/s)`);
if (ceiling) console.log(`two independent batch-2 replicas at once: ${ceiling.togetherMs} ms vs ${ceiling.aloneMs} ms alone, so this machine caps data-parallel speed-up at ${ceiling.ceiling}x`);
if (ceiling?.perCpuMs) console.log(`the same batch-2 step pinned to each vCPU: ${ceiling.perCpuMs.map((ms, cpu) => `cpu${cpu} ${ms} ms`).join(', ')}; an even 2 + 2 split against one worker on the fastest vCPU caps at ${ceiling.evenSplitCeiling}x`);
if (parallel128 && parallel256) console.log(`train, 2 workers: 128 px ${Math.round(parallel128)} ms/step (${(train128 / parallel128).toFixed(2)}x of ideal 2x), 256 px ${Math.round(parallel256)} ms/step (${(train256 / parallel256).toFixed(2)}x)`);
console.log(`inference 256 px: ${result.inference256.msPerSlice} ms/slice`);
if (onnx1 && onnx2) {
  const volume = (t: { msPer100Slices?: number }) => (t.msPer100Slices ? `, 100 slices ${(t.msPer100Slices / 1000).toFixed(1)} s` : '');
  console.log(`ONNX Runtime inference 256 px: 1 thread ${onnx1.msPerSlice.toFixed(0)} ms/slice${volume(onnx1)}; 2 threads ${onnx2.msPerSlice.toFixed(0)} ms/slice${volume(onnx2)}`);
}
console.log(`SegFormer-B0 128 px, batch 4: train ${segformer128.train.msPerStep} ms/step (CPU ${segformer128.train.cpuMsPerStep} ms, ${segformer128.train.imagesPerSecond} images/s), inference ${segformer128.inference.msPerSlice} ms/slice; top kernels: ${segformer128.kernelProfile.slice(0, 5).map((k) => `${k.kernel} ${k.share}%`).join(', ')}`);
if (segformer256) console.log(`SegFormer-B0 256 px, batch 4: train ${segformer256.train.msPerStep} ms/step, inference ${segformer256.inference.msPerSlice} ms/slice`);
for (const t of segformerTorch) console.log(`SegFormer-B0 vs PyTorch ${t.torch}, 1 thread: ${Object.entries(t.figures).map(([size, f]) => `${size} train ${f.trainMs} ms (${f.trainRatio}x), inference ${f.inferMs} ms (${f.inferRatio}x)`).join('; ')}`);
for (const [preset, t] of Object.entries(gan128).filter(([, v]) => typeof v === 'object' && v !== null && 'trainMsPerStep' in v) as [string, GanPresetTimes][]) {
  const two = t.trainMsPerStepTwoWorkers ? ` (2 workers ${t.trainMsPerStepTwoWorkers} ms/step, ${(t.trainMsPerStep / t.trainMsPerStepTwoWorkers).toFixed(2)}x)` : '';
  console.log(`pix2pix 128 px, batch 4, ${preset} preset (${t.filters} filters): train ${t.trainMsPerStep} ms/step${two}, generation ${t.generateMsPerImage} ms/image`);
}
for (const t of Array.isArray(gan128.pytorchOneThread) ? (gan128.pytorchOneThread as { version: string; ratios: Record<string, { train: number | null; generate: number | null }> }[]) : []) {
  console.log(`pix2pix vs PyTorch ${t.version}, 1 thread: ${Object.entries(t.ratios).map(([preset, r]) => `${preset} train ${r.train}x, generation ${r.generate}x`).join('; ')}`);
}
console.log(`augmentation 256 px (images/s): ${Object.entries(augmentation).map(([k, v]) => `${k} ${v}`).join(', ')}; a 256-px training step consumes ${consumed256.toFixed(1)} images/s (${Object.entries(result.augmentation256.headroom).map(([k, v]) => `${k} ${v}x`).join(', ')})`);
for (const steps of [interleaved.px128, interleaved.px256]) console.log(describeInterleaved(steps).join('\n'));
for (const { version, one, two } of torches) {
  const r = (result.pytorch as { version: string; ratios: Record<string, number | null> }[]).find((p) => p.version === version)!.ratios;
  console.log(`PyTorch ${version} inference 256 px: 1 thread ${one.infer256.toFixed(0)} ms, 2 threads ${two.infer256.toFixed(0)} ms; ratios: ours ${r.inference256VsOneThread}x (1 thread), ${r.inference256VsTwoThreads}x (2 threads), ONNX Runtime ${r.onnxInference256VsOneThread}x, ${r.onnxInference256VsTwoThreads}x`);
}
