import { afterEach, describe, expect, it } from 'vitest';
import type { AugmentPreview } from '../../../src-shared/contract';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

const opened: AppServices[] = [];

async function servicesOn(options: { labTimeLimitMs?: number } = {}) {
  const data = await tinySample(6, 64);
  const services = createAppServices({ transport: 'http', workspace: await tempDir(), allowedRoots: [data], emit: () => {}, ...options });
  opened.push(services);
  const open = await services.dispatch('datasets:open', { path: data });
  if (!open.ok) throw new Error(open.error.message);
  const datasetId = (open.value as { id: string }).id;
  const list = await services.dispatch('slices:list', { datasetId });
  if (!list.ok) throw new Error(list.error.message);
  const sliceId = (list.value as { id: string }[])[0]!.id;
  return { services, datasetId, sliceId };
}

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
