import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../../src-main/engine/datasets/synthetic/write-sample';
import { readPairs } from '../../../src-main/engine/gan/pairs-file';
import { createAppServices } from '../../../src-main/services/app-services';
import { writePairsFolder } from '../../fixtures/generated-pairs';
import { tempDir } from '../../fixtures/temp-dir';

async function setUp() {
  const workspace = await tempDir('covseg-gallery-');
  const data = join(workspace, 'data');
  const real = join(data, 'real');
  await writeSyntheticSample(real, { count: 6, size: 32, seed: 3 });
  const pairs = join(data, 'pairs');
  await writePairsFolder(real, pairs, [
    { id: 'a', recipe: { kind: 'copy', source: 'synth_p001_s01' } },
    { id: 'b', recipe: { kind: 'noisy', source: 'synth_p001_s02', amplitude: 30 } },
    { id: 'c', recipe: { kind: 'shuffled', image: 'synth_p001_s03', mask: 'synth_p001_s04' } },
  ]);
  const services = createAppServices({ transport: 'http', workspace, allowedRoots: [data], emit: () => {} });
  return { workspace, pairs, services };
}

describe('gallery service', () => {
  it('opens a pairs folder, serves a pair resized, and saves quick decisions without losing any', async () => {
    const { pairs, services } = await setUp();
    const opened = await services.dispatch('gallery:open', { path: pairs });
    expect(opened.ok).toBe(true);
    const value = (opened as { ok: true; value: { pairsId: string; pairs: unknown[]; report: unknown } }).value;
    expect(value.pairs).toHaveLength(3);
    expect(value.report).toBeNull();
    const pixels = await services.dispatch('gallery:pair', { pairsId: value.pairsId, pairId: 'a', size: 16 });
    expect(pixels).toMatchObject({ ok: true, value: { id: 'a', width: 16, height: 16 } });
    // Three decisions sent at once, as fast key presses would: all three are on disk.
    const results = await Promise.all([
      services.dispatch('gallery:decide', { pairsId: value.pairsId, ids: ['a'], action: 'accept', by: 'ana' }),
      services.dispatch('gallery:decide', { pairsId: value.pairsId, ids: ['b'], action: 'reject', by: 'ana' }),
      services.dispatch('gallery:decide', { pairsId: value.pairsId, ids: ['c'], action: 'accept', by: 'ben' }),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const onDisk = await readPairs(pairs);
    expect(onDisk.map((p) => [p.id, p.decision.state, p.decision.by])).toEqual([
      ['a', 'accepted', 'ana'],
      ['b', 'rejected', 'ana'],
      ['c', 'accepted', 'ben'],
    ]);
    expect((await services.dispatch('gallery:decide', { pairsId: value.pairsId, ids: ['a'], action: 'undo' })).ok).toBe(true);
    expect((await readPairs(pairs))[0]!.decision).toEqual({ state: 'pending' });
    // Unknown ids change nothing.
    const bad = await services.dispatch('gallery:decide', { pairsId: value.pairsId, ids: ['b', 'zzz'], action: 'accept' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect((await readPairs(pairs))[1]!.decision.state).toBe('rejected');
    // No nearest image before `covseg gan check`: the error says what to run.
    const nearest = await services.dispatch('gallery:nearest', { pairsId: value.pairsId, pairId: 'a' });
    expect(nearest).toMatchObject({ ok: false, error: { details: { fix: expect.stringContaining('covseg gan check') } } });
    services.dispose();
  });

  it('refuses folders outside the allowed roots and folders without pairs.jsonl', async () => {
    const { workspace, services } = await setUp();
    const outside = join(workspace, 'elsewhere');
    await mkdir(outside);
    expect(await services.dispatch('gallery:open', { path: outside })).toMatchObject({ ok: false, error: { message: expect.stringContaining('outside the folders the app may read') } });
    expect(await services.dispatch('gallery:decide', { pairsId: outside, ids: ['a'], action: 'accept' })).toMatchObject({ ok: false });
    expect(await services.dispatch('gallery:open', { path: join(workspace, 'data', 'real') })).toMatchObject({ ok: false, error: { message: expect.stringContaining('no pairs.jsonl') } });
    services.dispose();
  });
});
