/// <reference lib="dom" />
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LUNG_WINDOW } from '../../src-main/engine/datasets/hu-window';
import { readNifti } from '../../src-main/engine/datasets/nifti-volume';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { readGray } from '../../src-main/engine/imaging/png-io';
import { loadOnnxRuntime } from '../../src-main/engine/onnx/segmentation-engine';
import { train } from '../../src-main/engine/training/trainer';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writeNifti } from '../fixtures/nifti-writer';
import { tinyConfig } from '../fixtures/tiny-sample';
import { SHOTS } from '../fixtures/screenshots';

const SIZE = 96;
const DEPTH = 6;

/** Pixels of the viewer canvas that carry an overlay colour (grayscale CT has r = g = b). */
async function colouredPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.viewer-canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - data[i + 1]!) > 8 || Math.abs(data[i + 1]! - data[i + 2]!) > 8) n++;
    return n;
  });
}

describe.skipIf(!HAVE_CHROMIUM)('predict this study, in Chromium against covseg serve', async () => {
  const ort = await loadOnnxRuntime();
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-e2e-study-');
    // A trained run in the workspace, and a NIfTI study made of synthetic CT slices (HU through the inverse lung window).
    const sample = join(workspace, 'data', 'sample');
    await writeSyntheticSample(sample, { count: 12, size: SIZE, seed: 7 });
    await train({ runDir: join(workspace, 'runs', 'tiny-run'), config: tinyConfig(sample, { epochs: 12 }) });
    const volumes = join(workspace, 'data', 'volumes');
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'));
    const names = (await readdir(join(sample, 'frames'))).sort().slice(0, DEPTH);
    const values = new Float32Array(SIZE * SIZE * DEPTH);
    for (const [k, name] of names.entries()) {
      const image = await readGray(join(sample, 'frames', name));
      for (let row = 0; row < SIZE; row++) {
        for (let i = 0; i < SIZE; i++) values[k * SIZE * SIZE + (SIZE - 1 - row) * SIZE + i] = LUNG_WINDOW.level - LUNG_WINDOW.width / 2 + (image.data[row * SIZE + i]! / 255) * LUNG_WINDOW.width;
      }
    }
    const sform = [[-0.7, 0, 0, 90], [0, 0.7, 0, -120], [0, 0, 5, 30]];
    await writeNifti(join(volumes, 'images', 'patient7.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values, datatype: 'float32', sform });
    await writeNifti(join(volumes, 'labels', 'patient7.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values: new Uint8Array(SIZE * SIZE * DEPTH), datatype: 'uint8', sform });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1300, height: 900 } }));
  }, 180_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('predicts the open study with the chosen run, shows its labels as the overlay and the lesion burden', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', join(workspace, 'data', 'volumes'));
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${DEPTH} valid of ${DEPTH} slices`));
    await page.click('[data-tab="browser"]');
    const panel = page.getByTestId('study-panel');
    await panel.waitFor();
    expect(await panel.locator('h3').textContent()).toMatch(/Study patient7/);
    // The per-slice overlay of the run first: the engine that predicted it is named.
    const runSelect = page.getByTestId('run-select');
    await expect.poll(() => runSelect.locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await runSelect.selectOption('tiny-run');
    const engine = page.getByTestId('overlay-engine');
    await expect.poll(() => engine.textContent(), { timeout: 60_000 }).toMatch(ort ? /overlay: onnxruntime-node/ : /overlay: tfjs/);

    await page.getByTestId('study-predict').click();
    const burden = page.getByTestId('study-burden');
    await burden.waitFor({ timeout: 120_000 }).catch(async (error: Error) => {
      throw new Error(`no lesion burden; the study panel says: ${await panel.textContent()}`, { cause: error });
    });
    expect(await burden.textContent()).toMatch(/Lesion burden of patient7 \(96 × 96 × 6 voxels, run tiny-run/);
    const text = (await page.getByTestId('burden-slices').textContent())!;
    const [involved] = text.match(/^(\d+)\/6/)!.slice(1).map(Number);
    // The panel's figures are the label volume's: lesion mL = voxels x 0.7 x 0.7 x 5 mm^3.
    const output = (await page.getByTestId('study-output').textContent())!.replace(/^labels: /, '');
    expect(output.startsWith(join(workspace, 'studies'))).toBe(true);
    const labels = await readNifti(output);
    const voxels = labels.values.filter((v) => v > 0).length;
    expect(voxels).toBeGreaterThan(0);
    expect(await page.getByTestId('burden-lesion').textContent()).toBe(`${((voxels * 0.7 * 0.7 * 5) / 1000).toFixed(2)} mL`);
    const slicesWithLesion = [...Array(DEPTH).keys()].filter((k) => labels.values.subarray(k * SIZE * SIZE, (k + 1) * SIZE * SIZE).some((v) => v > 0)).length;
    expect(involved).toBe(slicesWithLesion);
    // Lung involvement from the lungs computed in the CT: the panel shows the report's figures.
    const report = JSON.parse(await readFile(output.replace(/\.nii\.gz$/, '.burden.json'), 'utf8'));
    const { lungInvolvedPercent, lungVolumeMl, lungs } = report.burden;
    expect(lungVolumeMl).toBeGreaterThan(0);
    expect(await page.getByTestId('burden-lung').textContent()).toBe(`${lungInvolvedPercent.toFixed(1)} % of ${lungVolumeMl.toFixed(2)} mL`);
    for (const lung of lungs) {
      const shown = (await page.getByTestId(`burden-${lung.side}-lung`).textContent())!.trim();
      expect(shown).toBe(`${lung.involvedPercent === null ? '–' : `${lung.involvedPercent.toFixed(1)} %`} of ${lung.volumeMl.toFixed(2)} mL`);
    }
    // The overlay now comes from the study's label volume.
    await expect.poll(() => engine.textContent()).toMatch(/study prediction/);
    await expect.poll(() => colouredPixels(page), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'study-predict.png'), fullPage: true });
  }, 300_000);
});
