import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src-shared/contract';
import { handLung, pngSlice, W } from '../../fixtures/lung-slice';
import { inProcessApi } from '../../fixtures/in-process-api';
import { runCli } from '../../fixtures/run-cli';
import { tempDir } from '../../fixtures/temp-dir';
import { hashTree } from '../../fixtures/tree-hash';

function unwrapOrThrow<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
const parse = (csv: string) => {
  const [header, ...lines] = csv.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, k) => [names[k]!, v])));
};

describe('lung corrections through the contract', () => {
  it('a saved correction replaces the computed lung in slices:get, the CSV export and covseg measure; it survives a restart; reset brings the computed one back', async () => {
    const data = await pngSlice();
    const before = await hashTree(data);
    const workspace = await tempDir();
    const { api } = inProcessApi(workspace, [data]);
    const { id: datasetId } = unwrapOrThrow(await api.datasets.open({ path: data }));

    const start = unwrapOrThrow(await api.annotations.lung({ datasetId, sliceId: 's1' }));
    expect(start).toMatchObject({ source: 'computed', version: 0, width: W, height: W, history: [] });
    expect(start.lung).toBe(start.computed);
    const computedCsv = parse(unwrapOrThrow(await api.datasets.measure({ datasetId }))).find((r) => r.slice === 's1')!;
    expect(computedCsv.lung_source).toBe('computed');
    expect(unwrapOrThrow(await api.slices.get({ datasetId, sliceId: 's1' })).lungSource).toBe('computed');

    // A lung map of the wrong size is refused with the fix.
    const wrong = await api.annotations.saveLung({ datasetId, sliceId: 's1', baseVersion: 0, lung: b64(new Uint8Array(10)) });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'size-mismatch' } });

    const saved = unwrapOrThrow(await api.annotations.saveLung({ datasetId, sliceId: 's1', baseVersion: 0, lung: b64(handLung()), tool: 'brush' }));
    expect(saved).toMatchObject({ source: 'corrected', version: 1 });
    const pixels = unwrapOrThrow(await api.slices.get({ datasetId, sliceId: 's1' }));
    expect(pixels.lungSource).toBe('corrected');
    expect(bytes(pixels.lung!)).toEqual(handLung());
    const row = parse(unwrapOrThrow(await api.datasets.measure({ datasetId }))).find((r) => r.slice === 's1')!;
    expect(row).toMatchObject({ lung_source: 'corrected', lung_px: '720', lung_involved: (48 / 720).toFixed(4) });
    expect(row.lung_involved).not.toBe(computedCsv.lung_involved);

    // A second start of the app (new services, same workspace) still has it; so does the CLI.
    const { api: restarted } = inProcessApi(workspace, [data]);
    unwrapOrThrow(await restarted.datasets.open({ path: data }));
    expect(unwrapOrThrow(await restarted.annotations.lung({ datasetId, sliceId: 's1' }))).toMatchObject({ source: 'corrected', version: 1 });
    const previous = process.env.COVSEG_WORKSPACE;
    process.env.COVSEG_WORKSPACE = workspace;
    try {
      const out = join(await tempDir(), 'm.csv');
      const result = await runCli(['measure', data, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      expect(parse(await readFile(out, 'utf8')).find((r) => r.slice === 's1')).toMatchObject({ lung_source: 'corrected', lung_involved: (48 / 720).toFixed(4) });
      // Named through a symbolic link, the dataset is the same one (the app keys it by its real path).
      const link = join(await tempDir(), 'via-link');
      await symlink(data, link);
      const viaLink = join(await tempDir(), 'm.csv');
      expect((await runCli(['measure', link, '--out', viaLink])).code).toBe(0);
      expect(parse(await readFile(viaLink, 'utf8')).find((r) => r.slice === 's1')!.lung_source).toBe('corrected');

      // A save from the old base (another window saved since) is refused.
      expect(await api.annotations.saveLung({ datasetId, sliceId: 's1', baseVersion: 0, lung: b64(handLung()) })).toMatchObject({ ok: false, error: { code: 'busy' } });
      expect(unwrapOrThrow(await restarted.annotations.resetLung({ datasetId, sliceId: 's1', baseVersion: 1 }))).toMatchObject({ source: 'computed', version: 2 });
      const reset = unwrapOrThrow(await api.annotations.lung({ datasetId, sliceId: 's1' }));
      expect(reset).toMatchObject({ source: 'computed', version: 2 });
      expect(reset.lung).toBe(start.computed);
      expect(reset.history.map((v) => v.tool)).toEqual(['brush', 'reset to computed']);
      expect(parse(unwrapOrThrow(await api.datasets.measure({ datasetId }))).find((r) => r.slice === 's1')).toMatchObject({ lung_source: 'computed', lung_involved: computedCsv.lung_involved });
      expect((await runCli(['measure', data, '--out', out, '--force'])).code).toBe(0);
      expect(parse(await readFile(out, 'utf8')).find((r) => r.slice === 's1')!.lung_source).toBe('computed');
    } finally {
      if (previous === undefined) delete process.env.COVSEG_WORKSPACE;
      else process.env.COVSEG_WORKSPACE = previous;
    }
    // Nothing was written into the dataset.
    expect(await hashTree(data)).toEqual(before);
  });
});
