import { afterEach, describe, expect, it } from 'vitest';
import type { AugmentPreview } from '../../../src-shared/contract';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services';
import { readGray } from '../../../src-main/engine/imaging/png-io';
import { writePair } from '../../fixtures/gray-png';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

const opened: AppServices[] = [];

async function servicesOn(options: { labTimeLimitMs?: number; data?: string } = {}) {
  const data = options.data ?? (await tinySample(6, 64));
  const services = createAppServices({ transport: 'http', workspace: await tempDir(), allowedRoots: [data], emit: () => {}, ...options });
  opened.push(services);
  const open = await services.dispatch('datasets:open', { path: data });
  if (!open.ok) throw new Error(open.error.message);
  const datasetId = (open.value as { id: string }).id;
  const list = await services.dispatch('slices:list', { datasetId });
  if (!list.ok) throw new Error(list.error.message);
  const sliceId = (list.value as { id: string }[])[0]!.id;
  return { services, datasetId, sliceId, data };
}

/** Four 16-px pairs whose square lesions (sizes 4 to 10) are ground-glass left of x = 6, consolidation right of it. */
async function labelledPairs(withLabels = true): Promise<string> {
  const data = await tempDir();
  for (const [k, lesion] of [4, 6, 8, 10].entries()) await writePair(data, `p${k}`, 16, lesion, withLabels);
  return data;
}

const bytes = (base64: string) => Buffer.from(base64, 'base64');

afterEach(() => {
  opened.splice(0).forEach((s) => s.dispose());
});

describe('AugmentService (augment:preview, augment:weather)', () => {
  it('refuses an out-of-range parameter before any work, naming the parameter and its range', async () => {
    const { services, datasetId, sliceId } = await servicesOn();
    const result = await services.dispatch('augment:preview', { datasetId, sliceId, seed: 1, step: { type: 'RandElastic', sigma: 1e9 } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid-argument');
    expect(result.error.details?.issues).toEqual(['step: RandElastic sigma must be a number in [0.5, 64] (pixels), got 1000000000']);
    const unknown = await services.dispatch('augment:preview', { datasetId, sliceId, seed: 1, step: { type: 'MixUp', alpah: 0.4 } });
    expect(!unknown.ok && unknown.error.details?.issues?.[0]).toMatch(/MixUp has no parameter "alpah" \(its parameters: prob, alpha, maskPolicy\)/);
  });

  it('previews a transform in the worker thread: deterministic per seed, and the mask stays hard', async () => {
    const { services, datasetId, sliceId } = await servicesOn();
    const preview = async (seed: number) => {
      const result = await services.dispatch('augment:preview', { datasetId, sliceId, seed, step: { type: 'RandElastic', alpha: 8, sigma: 10 } });
      if (!result.ok) throw new Error(result.error.message);
      return result.value as AugmentPreview;
    };
    const identity = await services.dispatch('augment:preview', { datasetId, sliceId, seed: 1 });
    if (!identity.ok) throw new Error(identity.error.message);
    const [a, b, c] = [await preview(1), await preview(1), await preview(2)];
    // Transformed on the Lab's 256 px grid, shown at the slice's own size (64 x 64 here).
    expect([a.width, a.height]).toEqual([64, 64]);
    expect(a.image).toBe(b.image);
    expect(a.image).not.toBe(c.image);
    expect(a.image).not.toBe((identity.value as AugmentPreview).image);
    expect(new Set(Buffer.from(a.mask, 'base64')).size).toBeLessThanOrEqual(2);
  });

  it('carries the class map through a transform: a flip moves ground-glass and consolidation with the image', async () => {
    const data = await labelledPairs();
    const { services, datasetId } = await servicesOn({ data });
    const result = await services.dispatch('augment:preview', { datasetId, sliceId: 'p3', seed: 1, step: { type: 'RandFlip' } });
    if (!result.ok) throw new Error(result.error.message);
    const preview = result.value as AugmentPreview;
    expect(preview.classes).toHaveLength(2);
    const [groundGlass, consolidation] = preview.classes!.map(bytes);
    const labels = (await readGray(`${data}/labels/p3.png`)).data;
    // The Lab fires the flip with probability 1 on both axes: pixel (x, y) comes from (15 - x, 15 - y).
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const source = labels[(15 - y) * 16 + (15 - x)]!;
        expect([groundGlass![y * 16 + x], consolidation![y * 16 + x]]).toEqual([source === 1 ? 255 : 0, source === 2 ? 255 : 0]);
      }
    }
    expect(bytes(preview.mask).reduce((n, v) => n + (v > 0 ? 1 : 0), 0)).toBe(100);
  });

  it('gives soft class shares under MixUp (their sum is the lesion mask) and no classes for a dataset without them', async () => {
    const { services, datasetId } = await servicesOn({ data: await labelledPairs() });
    let soft = 0;
    for (const seed of [1, 2, 3, 4]) {
      const result = await services.dispatch('augment:preview', { datasetId, sliceId: 'p0', seed, step: { type: 'MixUp', alpha: 2 } });
      if (!result.ok) throw new Error(result.error.message);
      const preview = result.value as AugmentPreview;
      const [groundGlass, consolidation] = preview.classes!.map(bytes);
      const mask = bytes(preview.mask);
      for (let i = 0; i < mask.length; i++) {
        expect(Math.abs(groundGlass![i]! + consolidation![i]! - mask[i]!)).toBeLessThanOrEqual(1);
        if (mask[i]! > 0 && mask[i]! < 250) soft++;
      }
    }
    expect(soft).toBeGreaterThan(0);
    const plain = await servicesOn({ data: await labelledPairs(false) });
    const result = await plain.services.dispatch('augment:preview', { datasetId: plain.datasetId, sliceId: 'p0', seed: 1, step: { type: 'RandFlip' } });
    expect(result.ok && (result.value as AugmentPreview).classes).toBeUndefined();
  });

  it('returns every generation of both weathering schedules', async () => {
    const { services, datasetId, sliceId } = await servicesOn();
    const result = await services.dispatch('augment:weather', { datasetId, sliceId, schedules: [{ qualities: [30, 30, 30], jitter: 'shift' }, { qualities: [30, 20], jitter: 'none' }] });
    if (!result.ok) throw new Error(result.error.message);
    const series = result.value as { images?: string[] }[];
    expect(series.map((s) => s.images?.length)).toEqual([4, 3]);
    // Generation 0 is the original in both; the last generations differ between the schedules.
    expect(series[1]!.images![0]).toBe(series[0]!.images![0]);
    expect(series[1]!.images![2]).not.toBe(series[0]!.images![3]);
  });

  it('stops a preview over its time limit with a timeout error and keeps answering other requests', async () => {
    const { services, datasetId, sliceId } = await servicesOn({ labTimeLimitMs: 1 });
    const heavy = services.dispatch('augment:weather', { datasetId, sliceId, schedules: [{ qualities: Array(60).fill(5), jitter: 'rescale' }, { qualities: Array(60).fill(5), jitter: 'rescale' }] });
    const meanwhile = await services.dispatch('slices:list', { datasetId });
    expect(meanwhile.ok).toBe(true);
    const result = await heavy;
    expect(result).toMatchObject({ ok: false, error: { code: 'timeout', message: expect.stringMatching(/augmentation preview took longer than/) } });
    expect((await services.dispatch('augment:catalogue', {})).ok).toBe(true);
  });
});
