import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppApi } from '../../src-shared/contract';
import { openDataset } from '../../src-main/engine/datasets/open-dataset';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import type { Dataset } from '../../src-main/engine/datasets/types';
import { loadCheckpoint } from '../../src-main/engine/runs/checkpoints';
import { predictSlice } from '../../src-main/engine/training/predict-mask';
import { train } from '../../src-main/engine/training/trainer';
import type { AppServices } from '../../src-main/services/app-services';
import { setApi } from '../../src-renderer/src/api/app-api';
import { useAnnotateStore } from '../../src-renderer/src/stores/annotate';
import { useDatasetsStore } from '../../src-renderer/src/stores/datasets';
import { inProcessApi } from '../fixtures/in-process-api';
import { tinyConfig } from '../fixtures/tiny-sample';

const SIZE = 32;
/** A probability this close to the threshold may fall either side once quantised to 0..255. */
const QUANTUM = 1 / 255 + 1e-6;

async function until(condition: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Hand {
  /** Lesion probability per pixel: the one channel, or 1 - background. */
  p: Float32Array;
  /** Ground-glass (1) or consolidation (2), whichever is likelier, and how close the two were. */
  cls: Uint8Array;
  tie: Float32Array;
  /** The run's own decision (threshold 0.5, or argmax). */
  decided: Uint8Array;
}

/** The run's probabilities of a slice computed here, from its best checkpoint with tfjs, not through the services. */
async function byHand(runDir: string, dataset: Dataset, sliceId: string): Promise<Hand> {
  const { model } = await loadCheckpoint(runDir, 'best');
  try {
    const slice = await dataset.load(dataset.slices.find((s) => s.id === sliceId)!);
    const { probabilities, channels, classMap } = await predictSlice(model, { width: slice.width, height: slice.height, data: slice.image }, SIZE, 0.5);
    const n = slice.width * slice.height;
    const p = new Float32Array(n);
    const cls = new Uint8Array(n).fill(1);
    const tie = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      if (channels === 1) p[i] = probabilities[i]!;
      else {
        p[i] = 1 - probabilities[3 * i]!;
        cls[i] = probabilities[3 * i + 2]! > probabilities[3 * i + 1]! ? 2 : 1;
        tie[i] = Math.abs(probabilities[3 * i + 2]! - probabilities[3 * i + 1]!);
      }
    }
    return { p, cls, tie, decided: classMap };
  } finally {
    model.dispose();
  }
}

function quantile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** Pixels where `got` differs from thresholding by hand, other than those the quantisation or a class tie may flip. */
function disagreements(got: Uint8Array, hand: Hand, threshold: number, paint: number | null): number {
  let bad = 0;
  for (let i = 0; i < got.length; i++) {
    const expected = hand.p[i]! >= threshold ? (paint ?? hand.cls[i]!) : 0;
    if (got[i] === expected) continue;
    if (Math.abs(hand.p[i]! - threshold) <= QUANTUM) continue;
    if (paint === null && got[i]! > 0 && expected > 0 && hand.tie[i]! < 1e-4) continue;
    bad++;
  }
  return bad;
}

describe('model assistance in the Annotate store, against the real services and two tiny trained runs', () => {
  let sample: string;
  let workspace: string;
  let dataset: Dataset;
  let api: AppApi;
  let services: AppServices;
  let datasetId: string;
  const runDir = (id: string) => join(workspace, 'runs', id);

  beforeAll(async () => {
    // Shared by both tests (tempDir() would remove it after the first).
    workspace = await mkdtemp(join(tmpdir(), 'covseg-annotate-assist-'));
    sample = join(workspace, 'data');
    await writeSyntheticSample(sample, { count: 12, size: 64, seed: 7 });
    // Two epochs of a tiny U-Net: probabilities spread enough for two thresholds to differ.
    await train({ runDir: runDir('bin'), config: tinyConfig(sample, { epochs: 2, size: SIZE }) });
    await train({ runDir: runDir('cls'), config: tinyConfig(sample, { epochs: 2, size: SIZE, classes: 'ggo-consolidation' }) });
    dataset = await openDataset(sample);
    ({ api, services } = inProcessApi(workspace, [sample]));
    setApi(api);
    setActivePinia(createPinia());
    const datasets = useDatasetsStore();
    await datasets.openPath(sample);
    datasetId = datasets.datasetId!;
  }, 240_000);

  afterAll(async () => {
    services?.dispose();
    await rm(workspace, { recursive: true, force: true });
  });

  const savedLabels = async (sliceId: string) => {
    const got = await api.annotations.get({ datasetId, sliceId });
    if (!got.ok) throw new Error(got.error.message);
    return { labels: new Uint8Array(Buffer.from(got.value.labels, 'base64')), state: got.value };
  };

  it('start from prediction: two thresholds give two different labels, each the run’s probabilities thresholded by hand (binary and three-class)', async () => {
    const store = useAnnotateStore();
    await store.start();
    const [first, second] = store.sliceIds;

    // Binary run: lesion painted with the selected label.
    await store.open(first!);
    store.runId = 'bin';
    await until(() => store.prediction?.runId === 'bin' && store.prediction.sliceId === first);
    expect(store.prediction!.classes).toBe('lesion');
    const hand = await byHand(runDir('bin'), dataset, first!);
    const low = quantile(hand.p, 0.3);
    const high = quantile(hand.p, 0.8);
    expect(high - low).toBeGreaterThan(4 / 255);
    const results: Uint8Array[] = [];
    for (const [threshold, paint] of [[low, 1], [high, 2]] as const) {
      store.label = paint;
      store.predictionThreshold = threshold;
      store.acceptPrediction();
      await store.flush();
      const { labels, state } = await savedLabels(first!);
      expect(disagreements(labels, hand, threshold, paint)).toBe(0);
      expect(state.status).toBe('predicted');
      expect(state.history.at(-1)).toMatchObject({ source: 'prediction', runId: 'bin', status: 'predicted' });
      results.push(labels);
    }
    const lesion = (labels: Uint8Array) => labels.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    expect(lesion(results[0]!)).toBeGreaterThan(lesion(results[1]!));
    expect(results[1]!.every((v) => v === 0 || v === 2)).toBe(true);

    // Three-class run: each pixel gets the class the run gives it, whatever label is selected.
    await store.open(second!);
    store.runId = 'cls';
    await until(() => store.prediction?.runId === 'cls' && store.prediction.sliceId === second);
    expect(store.prediction!.classes).toBe('ggo-consolidation');
    const classHand = await byHand(runDir('cls'), dataset, second!);
    const cut = quantile(classHand.p, 0.5);
    store.label = 1;
    store.predictionThreshold = cut;
    store.acceptPrediction();
    await store.flush();
    const { labels } = await savedLabels(second!);
    expect(disagreements(labels, classHand, cut, null)).toBe(0);
    expect(lesion(labels)).toBeGreaterThan(0);
  });

  it('review queue: slices not reviewed, most uncertain or worst agreeing first, as computed by hand; N goes down the queue', async () => {
    const store = useAnnotateStore();
    const reviewed = store.sliceIds[1]!;
    await store.open(reviewed);
    await store.markReviewed();
    expect((await savedLabels(reviewed)).state.status).toBe('reviewed');
    store.runId = 'bin';

    const hands = new Map<string, Hand>();
    for (const id of store.sliceIds.filter((s) => s !== reviewed)) hands.set(id, await byHand(runDir('bin'), dataset, id));
    const uncertainty = new Map([...hands].map(([id, h]) => [id, h.p.reduce((sum, p) => sum + 1 - Math.abs(2 * p - 1), 0) / h.p.length]));
    const agreement = new Map<string, number | null>();
    for (const [id, h] of hands) {
      const { labels } = await savedLabels(id);
      let both = 0;
      let sum = 0;
      for (let i = 0; i < labels.length; i++) {
        const a = h.decided[i]! > 0 ? 1 : 0;
        const b = labels[i]! > 0 ? 1 : 0;
        both += a & b;
        sum += a + b;
      }
      agreement.set(id, sum === 0 ? null : (2 * both) / sum);
    }

    /** The queue's order is the hand order, except among values closer than `eps` (float rounding between engines). */
    const expectOrder = (got: { sliceId: string }[], value: (id: string) => number, descending: boolean, eps: number) => {
      expect(got.map((q) => q.sliceId).sort()).toEqual([...hands.keys()].sort());
      for (let k = 1; k < got.length; k++) {
        const before = value(got[k - 1]!.sliceId);
        const after = value(got[k]!.sliceId);
        expect(descending ? before - after : after - before).toBeGreaterThan(-eps);
      }
    };

    store.queueOrder = 'uncertainty';
    await store.loadQueue();
    expect(store.queue.length).toBe(hands.size);
    for (const q of store.queue) expect(q.uncertainty).toBeCloseTo(uncertainty.get(q.sliceId)!, 4);
    expectOrder(store.queue, (id) => uncertainty.get(id)!, true, 1e-4);
    const byUncertainty = [...uncertainty].sort((a, b) => b[1] - a[1]).map(([id]) => id);

    store.queueOrder = 'agreement';
    await store.loadQueue();
    for (const q of store.queue) {
      const expected = agreement.get(q.sliceId)!;
      if (expected === null) expect(q.agreement).toBeNull();
      else expect(q.agreement).toBeCloseTo(expected, 2);
    }
    // Empty-vs-empty (no Dice) goes last; the rest by Dice, worst first.
    expectOrder(store.queue, (id) => agreement.get(id) ?? 2, false, 0.02);

    // N: from the reviewed slice to the most uncertain one, then past it once that one is reviewed too.
    store.queueOrder = 'uncertainty';
    await store.loadQueue();
    store.nextInQueue();
    await until(() => store.sliceId === byUncertainty[0] && store.current?.sliceId === byUncertainty[0]);
    await store.markReviewed();
    store.nextInQueue();
    await until(() => store.sliceId === byUncertainty[1] && store.current?.sliceId === byUncertainty[1]);
  });
});
