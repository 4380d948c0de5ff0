import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { openDataset } from '../../../../../src-main/engine/datasets/open-dataset';
import { createLoss } from '../../../../../src-main/engine/losses/segmentation-losses';
import { loadModel, saveModel } from '../../../../../src-main/engine/models/model-files';
import { createModel } from '../../../../../src-main/engine/models/registry';
import { buildSegformer } from '../../../../../src-main/engine/models/segformer/segformer';
import { adamSettingsFor, createAdamState } from '../../../../../src-main/engine/training/adam';
import { batchArrays, prepareSlices } from '../../../../../src-main/engine/training/slice-cache';
import { singleStepEngine } from '../../../../../src-main/engine/training/step-engine';
import { tempDir } from '../../../../fixtures/temp-dir';
import { tinySample } from '../../../../fixtures/tiny-sample';

const encoderParameters = (model: ReturnType<typeof buildSegformer>) => model.layers.filter((l) => /^s\d_/.test(l.name)).reduce((n, l) => n + l.countParams(), 0);

describe('SegFormer', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('maps [batch, H, W, 1] to logits of the input size, one channel per output class', () => {
    const binary = buildSegformer({ variant: 'b0' });
    const threeClasses = buildSegformer({ variant: 'b0', outputs: 3 });
    tf.tidy(() => {
      expect((binary.predict(tf.zeros([2, 64, 96, 1])) as tf.Tensor).shape).toEqual([2, 64, 96, 1]);
      expect((threeClasses.predict(tf.zeros([1, 32, 32, 1])) as tf.Tensor).shape).toEqual([1, 32, 32, 3]);
    });
    binary.dispose();
    threeClasses.dispose();
  });

  it('has the paper’s parameter counts (B0: 3.7M for 1 class, encoder 3.3M; 3.75M for 150 classes; B1 13.7M)', () => {
    const b0 = buildSegformer({ variant: 'b0' });
    expect(b0.countParams()).toBe(3_711_777);
    expect(encoderParameters(b0)).toBe(3_316_256);
    b0.dispose();
    // The paper's Table 6 rounds ADE20K's 150-class B0 to 3.8M (encoder 3.4M with its 3-channel stem).
    const ade = buildSegformer({ variant: 'b0', outputs: 150 });
    expect(ade.countParams()).toBe(3_750_070);
    ade.dispose();
    const b1 = buildSegformer({ variant: 'b1' });
    expect(b1.countParams()).toBe(13_671_745);
    b1.dispose();
  });

  it('rejects an unknown variant with the valid ones', () => {
    expect(() => createModel('segformer', { variant: 'b7' })).toThrow(/unknown SegFormer variant "b7".*|use one of: b0, b1/);
  });

  it('reduces the loss over a few AdamW steps on the built-in sample', async () => {
    const data = await tinySample(8, 64);
    const dataset = await openDataset(data);
    const slices = await prepareSlices(dataset, dataset.slices.map((s) => s.id), 32, { cacheDir: await tempDir() });
    const model = createModel('segformer', { variant: 'b0', seed: 3 });
    const engine = singleStepEngine(model, createAdamState(model.trainableWeights.map((w) => w.read().size)), 32, createLoss('bce'), adamSettingsFor({ name: 'adamw', weightDecay: 0.01 }));
    const batch = { ...batchArrays(slices, [0, 1, 2, 3]), count: 4 };
    const losses: number[] = [];
    for (let i = 0; i < 6; i++) losses.push(await engine.step(batch, 1e-3));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    await engine.dispose();
    model.dispose();
  });

  it('saves and loads in the tfjs layers format bit-exactly, outputs included', async () => {
    const model = createModel('segformer', { variant: 'b0', seed: 5 });
    const dir = await tempDir();
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    const input = tf.randomUniform([1, 32, 32, 1], 0, 1, 'float32', 9);
    const before = (model.predict(input) as tf.Tensor).dataSync();
    const after = (loaded.predict(input) as tf.Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
    const bytes = (m: typeof model) => Buffer.concat(m.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).slice().buffer)));
    expect(bytes(loaded).equals(bytes(model))).toBe(true);
    expect(loaded.getWeights().map((w) => w.shape)).toEqual(model.getWeights().map((w) => w.shape));
    expect(loaded.layers.map((l) => l.getClassName())).toContain('SegformerEfficientAttention');
    tf.dispose(input);
    model.dispose();
    loaded.dispose();
  });
});
