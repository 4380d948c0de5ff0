/// <reference lib="dom" />
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { canvasPixelsOfColour, contrast, effectiveBackground } from '../fixtures/contrast';
import { SHOTS } from '../fixtures/screenshots';

// Screenshots into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.

describe.skipIf(!HAVE_CHROMIUM)('the GAN launcher in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-gan-e2e-');
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [], viewport: { width: 1300, height: 900 } }));
  }, 180_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('launches a tiny pix2pix training from the GAN tab and shows live G/D losses and the epoch sample grid', async () => {
    // The app opens the built-in sample on start.
    await page.waitForSelector('[data-testid="backend"]:not(:empty)', { timeout: 120_000 });
    await page.click('[data-tab="gan"]');
    await page.waitForSelector('[data-testid="gan-form"] button[type="submit"]:not([disabled])', { timeout: 120_000 });
    for (const [name, value] of Object.entries({ epochs: '2', size: '32', batch: '8', filters: '4' })) await page.fill(`[data-testid="gan-form"] [name="${name}"]`, value);
    await page.click('[data-testid="gan-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="gan-live"]');
    // Losses arrive batch by batch, then the first epoch's sample grid.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="gan-losses"]')?.getAttribute('data-points') ?? 0) >= 2, undefined, { timeout: 240_000 });
    await page.waitForSelector('[data-testid="gan-samples"]', { timeout: 240_000 });
    await page.waitForSelector('[data-testid="gan-live"][data-state="completed"]', { timeout: 240_000 });
    const grid = await page.evaluate(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="gan-samples"]')!;
      return { epoch: img.dataset.epoch, width: img.naturalWidth, height: img.naturalHeight };
    });
    expect(grid.epoch).toBe('2');
    // Four rows of mask, real, generated at 32 px with 2-px gaps.
    expect(grid).toMatchObject({ width: 3 * 32 + 4, height: 4 * 32 + 6 });
    // The chart drew something: its canvas is not blank.
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="gan-losses"]')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(drawn).toBeGreaterThan(1000);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="gan-list"] tbody tr').length === 1);
    await writeFile(join(SHOTS, 'gan-launcher.png'), await page.screenshot({ fullPage: true }));
    const gans = await readdir(join(workspace, 'gans'));
    expect(gans).toHaveLength(1);
    expect((await readdir(join(workspace, 'gans', gans[0]!, 'samples'))).sort()).toEqual(['epoch-001.png', 'epoch-002.png']);
  }, 400_000);
  it('draws the loss chart’s legend, ticks and axis titles at WCAG AA contrast in both themes', async () => {
    const chart = '[data-testid="gan-losses"]';
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
      const muted = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--muted').trim());
      // Redrawn with the theme's text colour.
      await expect.poll(() => page.getAttribute(chart, 'data-text-colour')).toBe(muted);
      const background = await effectiveBackground(page, chart);
      expect(contrast(muted, background), `GAN chart text ${muted} on ${background} (${scheme})`).toBeGreaterThanOrEqual(4.5);
      // The legend (top rows of the canvas) is really drawn in it: glyph cores of that colour (antialiased 12-px text has few).
      const legendPixels = await canvasPixelsOfColour(page, chart, muted, 30);
      expect(legendPixels, `legend pixels in ${muted} (${scheme})`).toBeGreaterThan(10);
      await page.locator('[data-testid="gan-live"]').screenshot({ path: join(SHOTS, `gan-chart-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: null });
  }, 60_000);
});
