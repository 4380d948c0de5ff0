/// <reference lib="dom" />
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetOrientation } from '../../src-main/engine/datasets/dataset-orientation';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { train } from '../../src-main/engine/training/trainer';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writeGrayPng } from '../fixtures/gray-png';
import { writeNifti } from '../fixtures/nifti-writer';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../fixtures/real-data';
import { tinyConfig } from '../fixtures/tiny-sample';
import { REAL_DATA_SHOTS, SHOTS } from '../fixtures/screenshots';

// Screenshots: into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.
const MANY = 600;

/** The canvas' box on the page and the viewport. */
async function canvasBox(page: Page) {
  return page.evaluate(() => {
    const r = document.querySelector('.viewer-canvas')!.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height, vw: innerWidth, vh: innerHeight };
  });
}

/** A hash of the canvas pixels, to see that something on it changed. */
async function canvasHash(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('.viewer-canvas')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]!) | 0;
    return h;
  });
}

const currentSlice = (page: Page) => page.getByTestId('current-slice').textContent();

async function openFolder(page: Page, path: string, slices: number): Promise<void> {
  await page.click('[data-tab="datasets"]');
  await page.fill('[data-testid="dataset-path"]', path);
  await page.press('[data-testid="dataset-path"]', 'Enter');
  await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${slices} valid of ${slices} slices`));
  await page.click('[data-tab="browser"]');
}

describe.skipIf(!HAVE_CHROMIUM)('the slice browser in Chromium', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let data: string;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-viewer-e2e-');
    data = join(workspace, 'data');
    // Many small slices without labels (thumbnail flood, legend without classes, empty filter).
    const many = join(data, 'many');
    const names = Array.from({ length: MANY }, (_, k) => k);
    for (let start = 0; start < MANY; start += 50) {
      await Promise.all(
        names.slice(start, start + 50).map(async (k) => {
          const name = `s${String(k).padStart(4, '0')}`;
          await writeGrayPng(join(many, 'frames', `${name}.png`), 12, 12, (x, y) => (x * 11 + y * 5 + k) % 256);
          await writeGrayPng(join(many, 'masks', `${name}.png`), 12, 12, (x, y) => (x > 3 && x < 8 && y > 3 && y < 8 ? 255 : 0));
        }),
      );
    }
    // A CT volume in RAS (1 mm, 2.5 mm slices) with one lesion, for HU, spacing and side markers.
    const volumes = join(data, 'volumes');
    const n = 48;
    const hu = new Int16Array(n * n * 3).map((_, v) => {
      const i = v % n;
      const j = Math.floor(v / n) % n;
      const lung = ((i - 14) / 9) ** 2 + ((j - 24) / 15) ** 2 < 1 || ((i - 34) / 9) ** 2 + ((j - 24) / 15) ** 2 < 1;
      return lung ? -850 : 40;
    });
    const labels = new Uint8Array(n * n * 3).map((_, v) => ((v % n) > 10 && (v % n) < 16 && Math.floor(v / n) % n > 18 && Math.floor(v / n) % n < 28 ? 1 : 0));
    const sform = [
      [0.8, 0, 0, 0],
      [0, 0.8, 0, 0],
      [0, 0, 2.5, 0],
    ];
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'), { recursive: true });
    await writeNifti(join(volumes, 'images', 'case1.nii.gz'), { shape: [n, n, 3], values: hu, datatype: 'int16', sform });
    await writeNifti(join(volumes, 'labels', 'case1.nii.gz'), { shape: [n, n, 3], values: labels, datatype: 'uint8', sform });
    // A tiny run on a small synthetic set, to see splits and scores.
    const small = join(data, 'small');
    await writeSyntheticSample(small, { count: 24, size: 64, seed: 7 });
    await train({ runDir: join(workspace, 'runs', 'tiny'), config: tinyConfig(small, { epochs: 1 }) });
    ({ server, browser, page } = await openApp({
      workspace,
      dataRoots: HAVE_REAL_DATA ? [data, REAL_DATA_DIR] : [data],
      viewport: { width: 1440, height: 900 },
      beforeLoad: (p) => {
        p.on('pageerror', (error) => pageErrors.push(error.message));
        p.on('console', (message) => {
          if (message.type() === 'error') consoleErrors.push(message.text());
        });
      },
    }));
    await page.getByTestId('slice-count').waitFor({ timeout: 120_000 });
    await page.click('[data-tab="browser"]');
    await page.getByTestId('current-slice').getByText('synth_p001_s01').waitFor({ timeout: 60_000 });
  }, 300_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('fills the window: the canvas is whole at 1280x720 and larger at 1440x900', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect.poll(async () => (await canvasBox(page)).bottom).toBeLessThanOrEqual(720);
    const small = await canvasBox(page);
    expect(small.left).toBeGreaterThanOrEqual(0);
    expect(small.right).toBeLessThanOrEqual(small.vw);
    expect(small.top).toBeGreaterThanOrEqual(0);
    expect(Math.min(small.width, small.height)).toBeGreaterThan(400);
    await page.screenshot({ path: join(SHOTS, 'screen-slices-1280x720.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await expect.poll(async () => (await canvasBox(page)).height).toBeGreaterThan(small.height + 100);
    const large = await canvasBox(page);
    await page.screenshot({ path: join(SHOTS, 'screen-slices-1440x900.png') });
    expect(large.width).toBeGreaterThan(small.width + 100);
    expect(large.bottom).toBeLessThanOrEqual(900);
    expect(large.right).toBeLessThanOrEqual(1440);
  });

  it('pages slices with the keys even after a slider was clicked, and with the wheel', async () => {
    await page.locator('input[aria-label="truth opacity"]').click();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => currentSlice(page)).toMatch(/\(2\/120\)/);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => currentSlice(page)).toMatch(/\(3\/120\)/);
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => currentSlice(page)).toMatch(/\(2\/120\)/);
    await page.keyboard.press('End');
    await expect.poll(() => currentSlice(page)).toMatch(/\(120\/120\)/);
    await page.keyboard.press('Home');
    await expect.poll(() => currentSlice(page)).toMatch(/\(1\/120\)/);
    await page.keyboard.press('PageDown');
    await expect.poll(() => currentSlice(page)).toMatch(/\(11\/120\)/);
    // The wheel over the image pages; Ctrl+wheel zooms instead.
    await page.locator('.viewer-canvas').hover();
    await page.mouse.wheel(0, 100);
    await expect.poll(() => currentSlice(page)).toMatch(/\(12\/120\)/);
    const before = await canvasHash(page);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(() => canvasHash(page)).not.toBe(before);
    expect(await currentSlice(page)).toMatch(/\(12\/120\)/);
    await page.getByTestId('fit').click();
    // The go-to box and the slider.
    await page.fill('[data-testid="go-to"]', '40');
    await page.press('[data-testid="go-to"]', 'Enter');
    await expect.poll(() => currentSlice(page)).toMatch(/\(40\/120\)/);
    // Typing in a text box does not page.
    await page.focus('[data-testid="go-to"]');
    await page.keyboard.press('ArrowRight');
    expect(await currentSlice(page)).toMatch(/\(40\/120\)/);
    await page.locator('[data-testid="slice-slider"]').fill('0');
    await expect.poll(() => currentSlice(page)).toMatch(/\(1\/120\)/);
    // ? lists every shortcut.
    await page.locator('.viewer-canvas').click();
    await page.keyboard.press('?');
    const help = page.getByTestId('shortcuts');
    await help.waitFor();
    for (const text of ['next slice', 'PgDn', 'Home', 'zoom', 'window/level', 'rotate']) expect(await help.textContent()).toContain(text);
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
  });

  it('windows a PNG slice: presets, right-drag, and the grey level under the cursor', async () => {
    const canvas = page.locator('.viewer-canvas');
    const before = await canvasHash(page);
    await page.selectOption('[data-testid="window-preset"]', 'dark detail');
    await expect.poll(() => canvasHash(page)).not.toBe(before);
    expect(await page.getByTestId('window-values').textContent()).toMatch(/W 128 \/ L 64 grey/);
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 - 40, { steps: 4 });
    await page.mouse.up({ button: 'right' });
    expect(await page.getByTestId('window-values').textContent()).toMatch(/W 158 \/ L 84 grey/);
    await expect.poll(() => page.getByTestId('probe').textContent()).toMatch(/x \d+, y \d+: grey \d+/);
    await page.selectOption('[data-testid="window-preset"]', 'as stored');
  });

  it('shows HU, side markers and W/L presets on a NIfTI volume', async () => {
    await openFolder(page, join(data, 'volumes'), 3);
    await expect.poll(() => page.getByTestId('edge-top').textContent()).toBe('A');
    expect(await page.getByTestId('edge-right').textContent()).toBe('R');
    expect(await page.getByTestId('edge-left').textContent()).toBe('L');
    await page.selectOption('[data-testid="window-preset"]', 'mediastinum');
    expect(await page.getByTestId('window-values').textContent()).toMatch(/W 400 \/ L 40 HU/);
    const box = (await page.locator('.viewer-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.getByTestId('probe').textContent()).toMatch(/: 40 HU/);
    // 0.8 mm pixels: the lesion's area is in mm².
    expect(await page.getByTestId('measurements').textContent()).toMatch(/mm²/);
    // The CSV button: every slice and the study total, with the volume in mL.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-measurements').click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^study,slice,source,lesion_px,lesion_mm2,lesion_ml/);
    expect(csv).toMatch(/\ncase1,case1:z002,truth,/);
    expect(csv).toMatch(/\ncase1,ALL,truth,\d+,[\d.]+,[\d.]+,/);
    // A quarter turn takes the markers with the anatomy.
    await page.getByTestId('rotate').click();
    await expect.poll(() => page.getByTestId('edge-top').textContent()).toBe('L');
    expect(await page.getByTestId('edge-right').textContent()).toBe('A');
    await page.screenshot({ path: join(SHOTS, 'screen-slices-nifti.png') });
    await page.getByTestId('rotate').click();
    await page.getByTestId('rotate').click();
    await page.getByTestId('rotate').click();
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('none');
  });

  it.skipIf(!HAVE_REAL_DATA)('turns the rotated real slices upright as their anatomy says (rot90+flipH: transposed), remembers it for the dataset, and says they looked rotated', async () => {
    await openFolder(page, REAL_DATA_DIR, 50);
    await page.click('[data-tab="datasets"]');
    const report = (await page.locator('body').textContent()) ?? '';
    expect(report).toMatch(/looks-rotated|look turned by 90 degrees/);
    // The fix named is the anatomy's (spine at the bottom, heart on the screen's right), not a plain quarter turn.
    expect(report).toMatch(/--orientation rot90\+flipH/);
    await page.click('[data-tab="browser"]');
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe('medseg_tr000');
    const box0 = await canvasHash(page);
    await page.getByTestId('orient-anatomy').click();
    await expect.poll(() => page.getByTestId('orientation').textContent(), { timeout: 60_000 }).toBe('rot90+flipH');
    await expect.poll(() => canvasHash(page)).not.toBe(box0);
    // Remembered in the workspace (where the CLI reads it too), and after a reload.
    await expect.poll(() => readDatasetOrientation(workspace, REAL_DATA_DIR)).toEqual({ rotate: 90, flipH: true, flipV: false });
    await page.reload();
    await openFolder(page, REAL_DATA_DIR, 50);
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('rot90+flipH');
    await page.keyboard.press('4');
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'slices-real-1440x900.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'slices-real-1280x720.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.keyboard.press('4');
  });

  it('marks each slice with the run split, filters by split, sorts worst Dice on the test split, and warns about a run from another dataset', async () => {
    await openFolder(page, join(data, 'small'), 24);
    const select = page.getByTestId('run-select');
    await expect.poll(() => select.locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await select.selectOption('tiny');
    await page.getByTestId('slice-score').waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByTestId('thumb-split').first().textContent()).toMatch(/train|val|test/);
    expect(await page.getByTestId('slice-split').textContent()).toMatch(/train|val|test/);
    await page.selectOption('[data-testid="sort-select"]', 'worst-dice');
    await expect.poll(() => page.locator('[data-testid="split-select"]').inputValue()).toBe('test');
    const badges = await page.getByTestId('thumb-split').allTextContents();
    expect(badges.length).toBeGreaterThan(0);
    expect(new Set(badges)).toEqual(new Set(['test']));
    await page.keyboard.press('3');
    await page.screenshot({ path: join(SHOTS, 'viewer-split-diff.png') });
    // The diff legend lists exactly the diff colours; the truth without classes is not the TP green.
    const legend = await page.getByTestId('legend').locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-colour')));
    expect(legend).toContain('truePositive');
    await page.keyboard.press('3');
    await page.selectOption('[data-testid="sort-select"]', 'name');
    // The same run on the built-in sample: trained elsewhere, and the app says so.
    await page.click('[data-tab="datasets"]');
    await page.click('[data-testid="open-sample"]');
    await page.click('[data-tab="browser"]');
    await page.getByTestId('run-select').selectOption('tiny');
    await page.getByTestId('other-dataset').waitFor({ timeout: 120_000 });
    await page.getByTestId('run-select').selectOption('');
  }, 240_000);

  it('says when nothing matches, and shows the legend of the layers on screen (truth without classes is not green)', async () => {
    await openFolder(page, join(data, 'many'), MANY);
    await page.getByTestId('run-select').selectOption('');
    const legend = () => page.getByTestId('legend').locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-colour')));
    await expect.poll(legend).toEqual(['lesion']);
    await page.keyboard.press('1');
    await expect.poll(legend).toEqual([null]);
    await page.keyboard.press('1');
    await page.selectOption('[data-testid="filter-select"]', 'without-lesion');
    await page.getByTestId('no-match').waitFor();
    expect(await currentSlice(page)).not.toMatch(/\(1\/0\)/);
    expect(await currentSlice(page)).toMatch(/No slice matches/);
    await page.selectOption('[data-testid="filter-select"]', 'all');
  });

  it('scrolling the strip fast keeps thumbnail requests bounded and leaves no error behind', async () => {
    let active = 0;
    let peak = 0;
    let requested = 0;
    const done = (r: { url(): string }) => {
      if (r.url().includes('/api/slices/thumbnail')) active--;
    };
    page.on('request', (r) => {
      if (!r.url().includes('/api/slices/thumbnail')) return;
      requested++;
      active++;
      peak = Math.max(peak, active);
    });
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    pageErrors.length = 0;
    consoleErrors.length = 0;
    const strip = page.getByTestId('thumbnail-strip');
    await strip.hover();
    for (let k = 0; k < 60; k++) {
      await page.evaluate((step) => {
        const el = document.querySelector('[data-testid="thumbnail-strip"]')!;
        el.scrollTop = step * 800;
      }, k);
    }
    await expect.poll(() => active, { timeout: 30_000 }).toBe(0);
    // The rows at the end are there.
    await expect.poll(() => page.locator('[data-testid="thumbnail-strip"] img').count()).toBeGreaterThan(3);
    expect(peak).toBeLessThanOrEqual(4);
    expect(requested).toBeLessThan(MANY / 2);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
