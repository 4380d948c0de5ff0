// `npx tsx bench/batch-cost-probe.ts [--size 128] [--rounds 4]`: what a batch-2 step costs against a
// batch-4 step on one thread (the two halves of a 2-worker step against the 1-worker step), per kernel
// (wall time inside each top-level kernel call: run it on a quiet machine), the whole step in this
// thread's CPU time (/proc/thread-self/schedstat): which kernels' cost does not halve.
import { threadMoment } from '../src-main/engine/concurrency/thread-clock';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { singleStepEngine } from '../src-main/engine/training/step-engine';
import { timeTopLevelKernels, wallClock } from './kernel-timer';
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const size = Number(arg('size') ?? 128);
const rounds = Number(arg('rounds') ?? 4);
await selectBackend('wasm');
const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
const masks = images.map((im) => im.map((v) => (v > 200 ? 1 : 0)));
const batchOf = (n: number) => ({ ...batchArrays({ ids: ['0', '1', '2', '3'].slice(0, n), size, images: images.slice(0, n), masks: masks.slice(0, n) }, [...Array(n).keys()]), count: n });
const counts = [2, 4];
const engines = counts.map((n) => {
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  return { n, batch: batchOf(n), engine: singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), size, createLoss('bce')) };
});
for (const e of engines) await e.engine.step(e.batch, 1e-3);
const takeKernelTimes = timeTopLevelKernels(wallClock);
const per = new Map<number, { total: number[]; kernels: Map<string, [number, number]> }>(counts.map((n) => [n, { total: [], kernels: new Map() }]));
for (let r = 0; r < rounds; r++) {
  for (const e of engines) {
    await e.engine.step(e.batch, 1e-3);
    takeKernelTimes();
    const t = threadMoment().cpu;
    await e.engine.step(e.batch, 1e-3);
    const s = per.get(e.n)!;
    s.total.push(threadMoment().cpu - t);
    for (const [k, [ms, c]] of takeKernelTimes()) { const o = s.kernels.get(k) ?? [0, 0]; s.kernels.set(k, [o[0] + ms / rounds, o[1] + c / rounds]); }
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const two = per.get(2)!;
const four = per.get(4)!;
const inK = (s: typeof two) => [...s.kernels.values()].reduce((a, b) => a + b[0], 0);
console.log(`${size} px, this thread's CPU per step (ms), medians over ${rounds} rounds: batch 2 ${median(two.total).toFixed(0)} (kernels ${inK(two).toFixed(0)}), batch 4 ${median(four.total).toFixed(0)} (kernels ${inK(four).toFixed(0)}); 2 x batch 2 / batch 4 = ${((2 * median(two.total)) / median(four.total)).toFixed(3)}`);
console.log('kernel'.padEnd(32), 'calls', 'b2 ms'.padStart(8), 'b4 ms'.padStart(8), '2xb2-b4'.padStart(8));
const names = [...four.kernels.keys()].sort((a, b) => 2 * (two.kernels.get(b)?.[0] ?? 0) - four.kernels.get(b)![0] - (2 * (two.kernels.get(a)?.[0] ?? 0) - four.kernels.get(a)![0]));
for (const k of names) {
  const a = two.kernels.get(k) ?? [0, 0];
  const b = four.kernels.get(k)!;
  console.log(k.padEnd(32), String(b[1]).padStart(5), a[0].toFixed(1).padStart(8), b[0].toFixed(1).padStart(8), (2 * a[0] - b[0]).toFixed(1).padStart(8));
}
