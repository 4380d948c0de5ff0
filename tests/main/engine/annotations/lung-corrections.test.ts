import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { LungCorrections, lungCorrectionsDir } from '../../../../src-main/engine/annotations/lung-corrections';
import { annotationStoreDir, AnnotationStore } from '../../../../src-main/engine/annotations/annotation-store';
import { openDataset } from '../../../../src-main/engine/datasets/open-dataset';
import { measureDataset, measurementsCsv } from '../../../../src-main/engine/measure/measure-dataset';
import { handLung, pngSlice, W } from '../../../fixtures/lung-slice';
import { tempDir } from '../../../fixtures/temp-dir';

const parse = (csv: string) => {
  const [header, ...lines] = csv.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, k) => [names[k]!, v])));
};

describe('lung corrections', () => {
  it('stores a correction per slice in the workspace, reads it back from a new store, and resets to computed', async () => {
    const workspace = await tempDir();
    const root = '/data/ct';
    const store = await LungCorrections.open(workspace, root);
    expect(lungCorrectionsDir(workspace, root).startsWith(annotationStoreDir(workspace, root))).toBe(true);
    expect(await store.state('s1')).toMatchObject({ source: 'computed', version: 0 });
    const lung = { width: W, height: W, labels: handLung() };
    const saved = await store.save('s1', lung, 0, 'brush', 'tester');
    expect(saved).toMatchObject({ version: 1, status: 'corrected', tool: 'brush', author: 'tester' });

    // Another process (or the app after a reload) reads the same correction, without creating anything.
    const again = await LungCorrections.read(workspace, root);
    expect(await again.corrected('s1')).toEqual(lung.labels);
    expect(await again.corrected('s2')).toBeUndefined();

    // A save that did not start from the newest version is refused: nothing is overwritten.
    await expect(store.save('s1', { ...lung, labels: new Uint8Array(W * W) }, 0, 'eraser')).rejects.toMatchObject({ code: 'busy' });

    const computed = { width: W, height: W, labels: new Uint8Array(W * W).fill(2, 0, 10) };
    expect(await store.reset('s1', computed, 1)).toMatchObject({ version: 2, status: 'unlabelled', tool: 'reset to computed', source: 'revert' });
    const after = await store.state('s1');
    expect(after).toMatchObject({ source: 'computed', version: 2 });
    expect(after.lung).toBeUndefined();
    expect(after.history.map((v) => v.status)).toEqual(['corrected', 'unlabelled']);
    expect(await again.corrected('s1')).toBeUndefined();
    // The lesion store of the dataset holds no slice: lung corrections never show up as lesion labels.
    expect(await (await AnnotationStore.open(workspace, root)).slicesWithVersions()).toEqual([]);
  });

  it('reads nothing, and creates nothing, in a workspace without corrections', async () => {
    const workspace = await tempDir();
    const store = await LungCorrections.read(workspace, '/data/ct');
    expect(await store.corrected('s1')).toBeUndefined();
    expect(await readdir(workspace)).toEqual([]);
  });

  it('measurements divide by the corrected lung where there is one (percent of lung involved by hand) and say so per slice', async () => {
    const data = await pngSlice();
    const dataset = await openDataset(data);
    const computedRows = await measureDataset(dataset);
    const computed = computedRows.find((r) => r.slice === 's1')!;
    expect(computed.lungSource).toBe('computed');

    const rows = await measureDataset(dataset, { correctedLung: async (id) => (id === 's1' ? handLung() : undefined) });
    const slice = rows.find((r) => r.slice === 's1')!;
    expect(slice.lungSource).toBe('corrected');
    expect(slice.lungPixels).toBe(720);
    expect(slice.lesionPixels).toBe(80);
    // 48 lesion pixels inside 720 lung pixels; 48 of lung 1's 400, none of lung 2's 320.
    expect(slice.lungInvolved).toBeCloseTo(48 / 720, 10);
    expect(slice.imageLeftLung).toBeCloseTo(48 / 400, 10);
    expect(slice.imageRightLung).toBe(0);
    // Shown as stored (radiological): the image-left lung is the patient's right.
    expect(slice.rightLung).toBeCloseTo(0.12, 10);
    expect(slice.lungInvolved).not.toBeCloseTo(computed.lungInvolved!, 3);

    const csv = parse(measurementsCsv(rows));
    expect(csv.find((r) => r.slice === 's1')).toMatchObject({ lung_source: 'corrected', lung_px: '720', lung_involved: (48 / 720).toFixed(4) });
    expect(csv.find((r) => r.slice === 'ALL')).toMatchObject({ lung_source: 'corrected' });
    expect(parse(measurementsCsv(computedRows)).find((r) => r.slice === 's1')!.lung_source).toBe('computed');
  });
});
