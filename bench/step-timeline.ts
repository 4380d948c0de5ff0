// `npx tsx bench/step-timeline.ts [--size 128] [--rounds 8] [--shares 0.5,0.45] [--serial]`: where a
// data-parallel training step (U-Net depth 4 base 16, batch 4 as 2 + 2, BCE, Adam) spends its time on
// each of the two threads. Rounds interleave a 1-worker step with one traced 2-worker step per
// variant: each Adam share (the trainer thread's part of the Adam update) and, with `--serial`, the
// same with the previous schedule (the worker loads the new weights after the trainer, not at the
// same time), so that other load hits them alike. Every phase mark
// carries the thread's CPU time and run-queue wait (/proc/thread-self/schedstat), so each thread's
// step splits into CPU, queued (runnable, but the CPU was busy elsewhere: load) and asleep (waiting
// for the other thread or a message: imbalance and latency); only the last comes from the engine's
// schedule. Prints medians over rounds per phase and the median step as a timeline.
import { threadMoment, type PhaseMark } from '../src-main/engine/concurrency/thread-clock';
import { selectBackend } from '../src-main/engine/backend/select-backend';
import { createLoss } from '../src-main/engine/losses/segmentation-losses';
import { buildUnet } from '../src-main/engine/models/unet/unet';
import { createAdamState } from '../src-main/engine/training/adam';
import { batchArrays } from '../src-main/engine/training/slice-cache';
import { parallelStepEngine, singleStepEngine, TRAINER_ADAM_SHARE, type StepEngine } from '../src-main/engine/training/step-engine';
import { machineDescription } from './machine';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const size = Number(arg('size') ?? 128);
const rounds = Number(arg('rounds') ?? 8);
const shares = (arg('shares') ?? String(TRAINER_ADAM_SHARE)).split(',').map(Number);
const variants = shares.flatMap((share) => [{ share, serialLoads: false }, ...(process.argv.includes('--serial') ? [{ share, serialLoads: true }] : [])]);
const label = (v: (typeof variants)[number]) => `trainer's Adam share ${v.share}, ${v.serialLoads ? 'serial loads (previous schedule)' : 'loads at once'}`;
await selectBackend('wasm');

const images = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: size * size }, (_, i) => (i * 31 + k * 7) % 256));
const batch = { ...batchArrays({ ids: ['0', '1', '2', '3'], size, images, masks: images.map((im) => im.map((v) => (v > 200 ? 1 : 0))) }, [0, 1, 2, 3]), count: 4 };
const fresh = () => {
  const model = buildUnet({ depth: 4, baseFilters: 16 });
  return { model, optimizer: createAdamState(model.trainableWeights.map((w) => w.read().size)) };
};
const one = fresh();
const single = singleStepEngine(one.model, one.optimizer, size, createLoss('bce'));
const marks = new Map<string, PhaseMark[]>(variants.map((v) => [label(v), []]));
const parallel = new Map<string, StepEngine>();
for (const v of variants) {
  const m = fresh();
  const trace = (list: PhaseMark[]) => void marks.get(label(v))!.push(...list);
  parallel.set(label(v), await parallelStepEngine(m.model, m.optimizer, size, createLoss('bce'), { backend: 'wasm', loss: 'bce', lossOptions: {}, adamShare: v.share, serialLoads: v.serialLoads, trace }));
}

const singleSteps: { wall: number; cpu: number; queued: number }[] = [];
for (let r = -1; r < rounds; r++) {
  const before = threadMoment();
  await single.step(batch, 1e-3);
  const after = threadMoment();
  if (r >= 0) singleSteps.push({ wall: after.wall - before.wall, cpu: after.cpu - before.cpu, queued: after.queued - before.queued });
  // Two steps in a row, the second analysed: the worker's tail of a step (its load of the new
  // weights) runs into the next step, as in training, and is counted there.
  for (const [name, e] of parallel) {
    await e.step(batch, 1e-3);
    await e.step(batch, 1e-3);
    if (r < 0) marks.get(name)!.length = 0;
  }
}
// The worker's last marks arrive with its next answer: one more step per engine brings them in.
for (const e of parallel.values()) await e.step(batch, 1e-3);

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const f = (v: number) => v.toFixed(1).padStart(7);

interface Phase {
  thread: string;
  phase: string;
  start: number;
  wall: number;
  cpu: number;
  queued: number;
}
/** The second step of each round's pair: main's 'split rows' to its 'end'; each thread's phases clipped to that window. */
function stepsOf(all: PhaseMark[]): { wall: number; phases: Phase[]; spill: number }[] {
  const sorted = [...all].sort((a, b) => a.at.wall - b.at.wall);
  const byThread = new Map<string, PhaseMark[]>();
  for (const m of sorted) byThread.set(m.thread, [...(byThread.get(m.thread) ?? []), m]);
  const starts = sorted.filter((m) => m.thread === 'main' && m.phase === 'split rows');
  const ends = sorted.filter((m) => m.thread === 'main' && m.phase === 'end');
  return starts.slice(0, 2 * rounds).flatMap((s, k) => {
    if (k % 2 === 0) return [];
    const t0 = s.at.wall;
    const t1 = ends[k]!.at.wall;
    const phases: Phase[] = [];
    let spill = 0;
    for (const [thread, list] of byThread) {
      for (let i = 0; i + 1 < list.length; i++) {
        const a = list[i]!;
        const b = list[i + 1]!;
        const from = Math.max(a.at.wall, t0);
        const to = Math.min(b.at.wall, t1);
        if (thread === 'worker' && a.phase !== 'idle' && a.at.wall >= t0 && b.at.wall > t1 && a.at.wall < t1) spill += b.at.wall - Math.max(a.at.wall, t1);
        if (to <= from || (thread === 'main' && a.phase === 'end')) continue;
        // CPU and queue time of a clipped phase: in proportion to the part inside the window.
        const part = (to - from) / Math.max(1e-9, b.at.wall - a.at.wall);
        phases.push({ thread, phase: a.phase, start: from - t0, wall: to - from, cpu: (b.at.cpu - a.at.cpu) * part, queued: (b.at.queued - a.at.queued) * part });
      }
    }
    return [{ wall: t1 - t0, phases, spill }];
  });
}

console.log(machineDescription().summary);
console.log(`U-Net depth 4 base 16, ${size} px, batch 4 (2 + 2), ${rounds} interleaved rounds; medians; ms`);
const singleWall = median(singleSteps.map((s) => s.wall));
const singleCpu = median(singleSteps.map((s) => s.cpu));
console.log(`1 worker: wall ${singleWall.toFixed(0)}, CPU ${singleCpu.toFixed(0)}, queued (load) ${median(singleSteps.map((s) => s.queued)).toFixed(0)}`);
for (const [name, list] of marks) {
  const steps = stepsOf(list);
  const wall = median(steps.map((s) => s.wall));
  const sum = (s: (typeof steps)[number], thread: string, key: 'cpu' | 'queued') => s.phases.filter((p) => p.thread === thread).reduce((n, p) => n + p[key], 0);
  const busiest = median(steps.map((s) => Math.max(sum(s, 'main', 'cpu'), sum(s, 'worker', 'cpu'))));
  console.log(`\n2 workers, ${name}: wall ${wall.toFixed(0)} (scaling ${(singleWall / wall).toFixed(2)}x, by CPU ${(singleCpu / busiest).toFixed(2)}x); the worker's tail after the trainer's end (it delays the next step) ${median(steps.map((s) => s.spill)).toFixed(1)}`);
  for (const thread of ['main', 'worker']) {
    const cpu = median(steps.map((s) => sum(s, thread, 'cpu')));
    const queued = median(steps.map((s) => sum(s, thread, 'queued')));
    const asleep = median(steps.map((s) => s.wall - sum(s, thread, 'cpu') - sum(s, thread, 'queued')));
    console.log(`  ${thread.padEnd(7)} CPU ${f(cpu)}  queued (load) ${f(queued)}  asleep (waiting) ${f(asleep)}`);
  }
  // Per phase: medians over the steps of start offset, wall, CPU and queue time.
  const keys = [...new Set(steps.flatMap((s) => s.phases.map((p) => `${p.thread}\t${p.phase}`)))];
  const rows = keys.map((key) => {
    const [thread, phase] = key.split('\t') as [string, string];
    const pick = (s: (typeof steps)[number]) => s.phases.filter((p) => p.thread === thread && p.phase === phase);
    const stat = (k: keyof Omit<Phase, 'thread' | 'phase'>) => median(steps.map((s) => pick(s).reduce((n, p) => n + (k === 'start' ? 0 : p[k]), 0)));
    return { thread, phase, start: median(steps.map((s) => pick(s)[0]?.start ?? NaN).filter((v) => !Number.isNaN(v))), wall: stat('wall'), cpu: stat('cpu'), queued: stat('queued') };
  });
  rows.sort((a, b) => a.start - b.start);
  console.log(`  ${'start'.padStart(7)} ${'wall'.padStart(7)} ${'CPU'.padStart(7)} ${'queued'.padStart(7)}  thread  phase`);
  for (const r of rows) console.log(`  ${f(r.start)} ${f(r.wall)} ${f(r.cpu)} ${f(r.queued)}  ${r.thread.padEnd(7)} ${r.phase}`);
}
await single.dispose();
for (const e of parallel.values()) await e.dispose();
