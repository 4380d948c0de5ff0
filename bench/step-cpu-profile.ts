// `npx tsx bench/step-cpu-profile.ts [--size 128]`: where one U-Net training step (depth 4, base 16,
// batch 4, BCE, JS Adam) spends this process's CPU time on wasm, per top-level kernel. CPU time
// (user + system) rather than tf.profile's wall time: other processes' load inflates wall time.
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { singleStepEngine } from '../src-main/engine/training/step-engine';
import { cpuClock, timeTopLevelKernels } from './kernel-timer';
await selectBackend('wasm');
const sizeFlag = process.argv.indexOf('--size');
const size = sizeFlag >= 0 ? Number(process.argv[sizeFlag + 1]) : 128;
const model = buildUnet({ depth: 4, baseFilters: 16 });
const engine = singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce'));
const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k) % 256));
const batch = { ...batchArrays({ ids: ['0', '1', '2', '3'], size, images, masks: images.map((im) => im.map((v) => (v > 200 ? 1 : 0))) }, [0, 1, 2, 3]), count: 4 };
await engine.step(batch, 1e-3);
const takeKernelTimes = timeTopLevelKernels(cpuClock);
const steps = 3;
const t0 = process.cpuUsage();
for (let i = 0; i < steps; i++) await engine.step(batch, 1e-3);
const u0 = process.cpuUsage(t0);
const acc = takeKernelTimes();
const total = (u0.user + u0.system) / 1000 / steps;
const kernels = [...acc.values()].reduce((a, b) => a + b[0], 0) / steps;
console.log(`user ${(u0.user / 1000 / steps).toFixed(0)} sys ${(u0.system / 1000 / steps).toFixed(0)}`);
console.log(`step CPU ${total.toFixed(0)} ms, in kernels ${kernels.toFixed(0)} ms, outside ${(total - kernels).toFixed(0)} ms`);
for (const [k, [ms, n]] of [...acc].sort((a, b) => b[1][0] - a[1][0]).slice(0, 16)) console.log(k.padEnd(30), (ms / steps).toFixed(1).padStart(8), String(n / steps).padStart(6));
