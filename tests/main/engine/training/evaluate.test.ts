import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { readGray } from '../../../../src-main/engine/imaging/png-io';
import { resizeProbabilities } from '../../../../src-main/engine/imaging/resize-probabilities';
import { createLoss } from '../../../../src-main/engine/losses/segmentation-losses';
import { createModel } from '../../../../src-main/engine/models/registry';
import { openEngine } from '../../../../src-main/engine/onnx/segmentation-engine';
import { evaluateModel, loadOriginalTargets, predictProbabilities } from '../../../../src-main/engine/training/evaluate';
import { evaluateWithEngine } from '../../../../src-main/engine/training/evaluate-engine';
import { prepareSlices } from '../../../../src-main/engine/training/slice-cache';
import { writeGrayPng } from '../../../fixtures/gray-png';
import { tempDir } from '../../../fixtures/temp-dir';

// Odd sizes on purpose: nothing lines up with the model's 16 x 16 grid.
const W = 37;
const H = 29;

async function oddDataset(): Promise<string> {
  const root = await tempDir('covseg-odd-');
  const label = (x: number, y: number) => ((x - 12) ** 2 + (y - 14) ** 2 < 40 ? 2 : (x - 20) ** 2 + (y - 12) ** 2 < 120 ? 1 : 0);
  await writeGrayPng(`${root}/frames/odd.png`, W, H, (x, y) => (x * 5 + y * 11) % 256);
  await writeGrayPng(`${root}/masks/odd.png`, W, H, (x, y) => (label(x, y) > 0 ? 255 : 0));
  await writeGrayPng(`${root}/labels/odd.png`, W, H, label);
  return root;
}

/** Counts by hand: true positives, false positives and false negatives of `predicted === c` against `truth === c`. */
function counts(predicted: Uint8Array, truth: Uint8Array, c: number): { tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i] === c;
    const t = truth[i] === c;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return { tp, fp, fn };
}

describe('evaluation at original resolution', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('bilinear resize of probabilities uses half-pixel centres, clamped at the edges', () => {
    expect(Array.from(resizeProbabilities(Float32Array.from([0, 1]), 2, 1, 1, 4, 1))).toEqual([0, 0.25, 0.75, 1]);
    // Two channels move together: channel 1 is 1 - channel 0.
    const two = resizeProbabilities(Float32Array.from([0, 1, 1, 0]), 2, 1, 2, 4, 1);
    expect(Array.from(two)).toEqual([0, 1, 0.25, 0.75, 0.75, 0.25, 1, 0]);
  });

  it('equals scoring by hand: probabilities resized to the 37 x 29 slice, then thresholded, against the untouched PNG mask', async () => {
    const root = await oddDataset();
    const dataset = await openDataset(root);
    const cacheDir = await tempDir();
    const slices = await prepareSlices(dataset, ['odd'], 16, { cacheDir });
    const originals = await loadOriginalTargets(dataset, ['odd'], false);
    const model = createModel('unet', { depth: 2, baseFilters: 4, seed: 3 });
    const [p] = await predictProbabilities(model, slices, 1);
    // A threshold inside the untrained model's range, so both classes occur.
    const sorted = Float32Array.from(p!).sort();
    const threshold = sorted[Math.floor(sorted.length * 0.7)]!;
    const evaluation = await evaluateModel(model, slices, createLoss('bce'), 1, threshold, originals);
    const truth = Uint8Array.from((await readGray(`${root}/masks/odd.png`)).data, (v) => (v > 127 ? 1 : 0));
    const up = resizeProbabilities(p!, 16, 16, 1, W, H);
    const predicted = Uint8Array.from(up, (v) => (v >= threshold ? 1 : 0));
    const hand = counts(predicted, truth, 1);
    expect(hand.tp + hand.fp).toBeGreaterThan(0);
    expect(evaluation.resolution).toBe('original');
    expect(evaluation.slices[0]).toMatchObject({ ...hand, tn: W * H - hand.tp - hand.fp - hand.fn });
    expect(evaluation.metrics.dice).toBeCloseTo((2 * hand.tp) / (2 * hand.tp + hand.fp + hand.fn), 10);
    const onModelGrid = await evaluateModel(model, slices, createLoss('bce'), 1, threshold);
    expect(onModelGrid.resolution).toBe('model');
    expect(onModelGrid.slices[0]!.tp + onModelGrid.slices[0]!.fp + onModelGrid.slices[0]!.fn + onModelGrid.slices[0]!.tn).toBe(16 * 16);
    model.dispose();
  });

  it('three classes: per-class counts equal argmax of the resized probabilities against the untouched class map', async () => {
    const root = await oddDataset();
    const dataset = await openDataset(root);
    const slices = await prepareSlices(dataset, ['odd'], 16, { cacheDir: await tempDir(), withLabels: true });
    const originals = await loadOriginalTargets(dataset, ['odd'], true);
    const model = createModel('unet', { depth: 2, baseFilters: 4, seed: 5, outputs: 3 });
    const [p] = await predictProbabilities(model, slices, 1);
    expect(p!.length).toBe(16 * 16 * 3);
    const evaluation = await evaluateModel(model, slices, createLoss('ce+dice'), 1, 0.5, originals);
    const truth = (await readGray(`${root}/labels/odd.png`)).data;
    const up = resizeProbabilities(p!, 16, 16, 3, W, H);
    const predicted = Uint8Array.from({ length: W * H }, (_, i) => {
      const row = [up[3 * i]!, up[3 * i + 1]!, up[3 * i + 2]!];
      return row.indexOf(Math.max(...row));
    });
    for (const c of [1, 2]) expect(evaluation.classSlices![0]!.classes[c - 1], `class ${c}`).toMatchObject(counts(predicted, truth, c));
    expect(evaluation.classSlices![0]!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(W * H);
    expect(evaluation.classes!.classes.map((c) => c.name)).toEqual(['ground-glass', 'consolidation']);
    model.dispose();
  });

  it('scores an ONNX Runtime prediction exactly as a tfjs one: same classes, same resolution policy', async () => {
    const root = await oddDataset();
    const dataset = await openDataset(root);
    const slices = await prepareSlices(dataset, ['odd'], 16, { cacheDir: await tempDir(), withLabels: true });
    const originals = await loadOriginalTargets(dataset, ['odd'], true);
    const model = createModel('unet', { depth: 2, baseFilters: 4, seed: 7, outputs: 3 });
    const spec = { name: 'unet', options: { depth: 2, baseFilters: 4, outputs: 3 } };
    const viaTfjs = await evaluateModel(model, slices, createLoss('ce+dice'), 1, 0.5, originals);
    const engine = await openEngine('onnx', model, spec);
    try {
      const viaOnnx = await evaluateWithEngine(engine, slices, createLoss('ce+dice'), 1, 0.5, originals);
      expect(viaOnnx.resolution).toBe('original');
      expect(viaOnnx.classSlices![0]!.confusion).toEqual(viaTfjs.classSlices![0]!.confusion);
      expect(viaOnnx.loss).toBeCloseTo(viaTfjs.loss, 4);
    } finally {
      engine.dispose();
      model.dispose();
    }
  });
});
