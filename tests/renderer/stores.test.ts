import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { setApi } from '../../src-renderer/src/api/app-api';
import { useDatasetsStore } from '../../src-renderer/src/stores/datasets';
import { useTrainingStore } from '../../src-renderer/src/stores/training';
import { useViewerStore } from '../../src-renderer/src/stores/viewer';
import { inProcessApi } from '../fixtures/in-process-api';
import { seedBuiltInSample } from '../fixtures/sample-cache';
import { tempDir } from '../fixtures/temp-dir';

async function until(condition: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A workspace holding the built-in sample already, as after the app's first start. */
async function workspaceWithSample(): Promise<string> {
  const workspace = await tempDir();
  await seedBuiltInSample(workspace);
  return workspace;
}

describe('renderer stores against the real services', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('datasets: writes and opens the sample on first start, lists slices, reports a bad path as an actionable error', async () => {
    const allowed = await tempDir();
    const { api, services } = inProcessApi(await tempDir(), [allowed]);
    setApi(api);
    const datasets = useDatasetsStore();
    await datasets.openSample();
    expect(datasets.report?.validSlices).toBe(120);
    expect(datasets.slices).toHaveLength(120);
    await datasets.openPath(`${allowed}/not-here`);
    expect(datasets.error).toMatch(new RegExp(`folder does not exist — file: ${allowed}/not-here — fix:`));
    // Outside the allowed folders, a missing path gets the same answer as an existing one.
    await datasets.openPath('/definitely/not/here');
    expect(datasets.error).toMatch(/outside the folders the app may read — file: \/definitely\/not\/here — fix:/);
    services.dispose();
  });

  it('viewer: steps, toggles layers, sorts by lesion size and filters, loads pixels of the current slice', async () => {
    const { api, services } = inProcessApi(await workspaceWithSample());
    setApi(api);
    const datasets = useDatasetsStore();
    await datasets.openSample();
    const viewer = useViewerStore();
    expect(viewer.current?.id).toBe('synth_p001_s01');
    viewer.step(-1);
    expect(viewer.current?.id).toBe(datasets.slices.at(-1)!.id);
    viewer.step(1);
    // The browser view loads on mount; later slice changes load by themselves.
    await viewer.load();
    expect(viewer.pixels?.id).toBe('synth_p001_s01');
    viewer.step(1);
    await until(() => viewer.pixels?.id === 'synth_p001_s02');
    expect(viewer.pixels!.width).toBe(256);
    viewer.toggle('truth');
    expect(viewer.layers.truth.visible).toBe(false);
    viewer.sort = 'lesion';
    const fractions = viewer.ordered.map((s) => s.lesionFraction);
    expect(fractions).toEqual(fractions.slice().sort((a, b) => b - a));
    viewer.filter = 'without-lesion';
    expect(viewer.ordered.length).toBeGreaterThan(0);
    expect(viewer.ordered.every((s) => s.lesionFraction === 0)).toBe(true);
    viewer.zoomBy(2);
    viewer.resetView();
    expect(viewer.zoom).toBe(1);
    services.dispose();
  });

  it('training: starts a run, receives progress events, lists the finished run', async () => {
    const { api, services } = inProcessApi(await workspaceWithSample());
    setApi(api);
    const datasets = useDatasetsStore();
    await datasets.openSample();
    const training = useTrainingStore();
    await training.start({ datasetId: datasets.datasetId!, epochs: 2, size: 32, depth: 2, baseFilters: 4, batch: 8 });
    expect(training.error).toBeNull();
    const runId = training.watched!;
    await until(() => training.live[runId]?.state === 'completed');
    expect(training.live[runId]!.points.map((p) => p.epoch)).toEqual([1, 2]);
    await until(() => training.runs.some((r) => r.runId === runId && r.state === 'completed'));
    await training.open(runId);
    expect(training.detail?.metrics).toHaveLength(2);
    expect(training.detail?.test).not.toBeNull();
    services.dispose();
  });
});
