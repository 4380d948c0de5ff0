// `npm run bench:real`: the real-data target. On ../shared/data/medseg-covid-train (grouped split,
// seed 1), a U-Net base 16 at 128 px trained 30 epochs with BCE — by this engine, and by PyTorch on
// the very same prepared arrays when python3-torch is installed. Prints both held-out Dice values,
// scored on the model's grid and at each slice's own size. Then the three-class task (ground-glass
// vs consolidation) with CE and CE+Dice over COVSEG_BENCH_SEEDS (default 1,2,3), per class, at both
// resolutions. COVSEG_PYTHON picks the Python with torch (default python3).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDataset } from '../src-main/engine/datasets/open-dataset';
import { resolveTrainConfig } from '../src-main/engine/training/train-config';
import { prepareSlices } from '../src-main/engine/training/slice-cache';
import { evaluateRun } from '../src-main/engine/training/evaluate-run';
import { train } from '../src-main/engine/training/trainer';
import { readRun } from '../src-main/engine/runs/read-run';
import { runTorchScript, torchPythons } from './torch-reference';

const data = resolve(import.meta.dirname, '../../shared/data/medseg-covid-train');
if (!existsSync(data)) {
  console.log(`${data} is absent: nothing to measure.`);
  process.exit(0);
}
const epochs = Number(process.argv[2] ?? 30);
const work = await mkdtemp(join(tmpdir(), 'covseg-real-'));
const runDir = join(work, 'run');
const config = resolveTrainConfig({ data, epochs, size: 128, batch: 4, lr: 1e-3, loss: 'bce', seed: 1, split: { val: 0.25, test: 0.15, seed: 1 } });
const summary = await train({ runDir, config, hooks: [{ onEpochEnd: (log) => console.error(`epoch ${log.epoch}: val Dice ${log.valDice?.toFixed(3)}`) }] });
const record = (await readRun(runDir)).record;
const atModel = await evaluateRun(runDir, { resolution: 'model' });
const ours = {
  bestValDice: summary.bestValDice,
  testDice: summary.test?.metrics.dice ?? null,
  testPooledDice: summary.test?.metrics.pooled.dice ?? null,
  resolution: summary.test?.resolution,
  atModelResolution: { testDice: atModel.metrics.dice, testPooledDice: atModel.metrics.pooled.dice },
  minutes: summary.timings.totalSeconds / 60,
};

let pytorch: unknown = 'python3-torch not installed';
const python = process.env.COVSEG_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
if (spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) {
  const dataset = await openDataset(data);
  for (const split of ['train', 'val', 'test'] as const) {
    const slices = await prepareSlices(dataset, record.split[split], 128);
    const bytes = new Uint8Array(slices.ids.length * 2 * 128 * 128);
    slices.ids.forEach((_, k) => {
      bytes.set(slices.images[k]!, k * 2 * 128 * 128);
      bytes.set(slices.masks[k]!, (k * 2 + 1) * 128 * 128);
    });
    await writeFile(join(work, `${split}.bin`), bytes);
  }
  await writeFile(join(work, 'index.json'), JSON.stringify({ size: 128 }));
  const run = spawnSync(python, [join(import.meta.dirname, 'torch_unet_protocol.py'), work, String(epochs)], { encoding: 'utf8', timeout: 3_600_000 });
  pytorch = run.status === 0 ? JSON.parse(run.stdout.trim().split('\n').pop()!) : `failed: ${run.stderr.slice(-500)}`;
}
console.log(JSON.stringify({ protocol: `grouped split seed 1 (${record.split.train.length}/${record.split.val.length}/${record.split.test.length}), U-Net depth 4 base 16, 128 px, ${epochs} epochs, BCE, Adam 1e-3, batch 4, best by validation Dice`, covseg: ours, pytorch }, null, 2));

// Three classes: the same split and network, softmax over background, ground-glass, consolidation.
const seeds = (process.env.COVSEG_BENCH_SEEDS ?? '1,2,3').split(',').map(Number);
const perClass = [];
for (const loss of ['ce', 'ce+dice']) {
  for (const seed of seeds) {
    const classRun = join(work, `classes-${loss}-${seed}`);
    const classConfig = resolveTrainConfig({ ...config, classes: 'ggo-consolidation', loss, seed });
    const result = await train({ runDir: classRun, config: classConfig, hooks: [{ onEpochEnd: (log) => console.error(`${loss} seed ${seed} epoch ${log.epoch}: val mean class Dice ${log.valDice?.toFixed(3)}`) }] });
    const row: Record<string, unknown> = { loss, seed, minutes: result.timings.totalSeconds / 60 };
    for (const resolution of ['model', 'original'] as const) {
      const evaluation = await evaluateRun(classRun, { resolution });
      const c = evaluation.classes!;
      row[resolution] = {
        groundGlass: { dice: c.classes[0]!.dice, pooledDice: c.classes[0]!.pooled.dice, slices: c.classes[0]!.present },
        consolidation: { dice: c.classes[1]!.dice, pooledDice: c.classes[1]!.pooled.dice, slices: c.classes[1]!.present },
        meanDice: c.meanDice,
        anyLesionDice: c.anyLesion.dice,
        groundGlassAsConsolidation: c.groundGlassAsConsolidation,
        consolidationAsGroundGlass: c.consolidationAsGroundGlass,
      };
    }
    perClass.push(row);
    console.log(JSON.stringify(row));
  }
}
// The same three-class protocol in each PyTorch present, on the very same prepared arrays (model grid).
const classDataset = await openDataset(data);
for (const split of ['train', 'val', 'test'] as const) {
  const slices = await prepareSlices(classDataset, record.split[split], 128, { withLabels: true });
  const bytes = new Uint8Array(slices.ids.length * 2 * 128 * 128);
  slices.ids.forEach((_, k) => {
    bytes.set(slices.images[k]!, k * 2 * 128 * 128);
    bytes.set(slices.labels![k]!, (k * 2 + 1) * 128 * 128);
  });
  await writeFile(join(work, `${split}-classes.bin`), bytes);
}
await writeFile(join(work, 'index.json'), JSON.stringify({ size: 128 }));
const torchRows = torchPythons().flatMap(({ python: torchPython }) =>
  ['ce', 'ce+dice'].flatMap((loss) => seeds.map((seed) => runTorchScript<Record<string, unknown>>(torchPython, 'torch_unet_classes_protocol.py', [work, String(epochs), loss, String(seed)]) ?? { loss, seed, failed: true })),
);
console.log(JSON.stringify({ threeClass: perClass, pytorch: torchRows.length ? torchRows : 'no PyTorch found (python3-torch, or COVSEG_PYTHON)' }, null, 2));
await rm(work, { recursive: true, force: true });
