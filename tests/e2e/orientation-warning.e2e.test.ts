/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';
import { writeTurnedSample } from '../fixtures/turned-sample';

const warnings = async (page: Page) => (await page.getByTestId('slices-dataset-warning').allTextContents()).map((t) => t.trim());

describe.skipIf(!HAVE_CHROMIUM)('the dataset check\'s orientation warning follows the orientation in Chromium', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let turned: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-e2e-orient-warning-', { builtInSample: false });
    // A small synthetic sample stored turned a quarter clockwise: opened, it "looks rotated".
    turned = join(workspace, 'data', 'turned');
    await writeTurnedSample(join(workspace, 'upright'), turned, { count: 8, size: 128, seed: 3 });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1280, height: 800 } }));
  }, 120_000);

  afterAll(async () => {
    await closeApp({ browser, server }, workspace);
  });

  it('shows "looks rotated" in the Slices view, clears it when the picture is turned upright, and says "looks mirrored" after a flip, without reopening', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', turned);
    await page.press('[data-testid="dataset-path"]', 'Enter');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(/8 valid of 8 slices/);
    await page.click('[data-tab="browser"]');
    await expect.poll(() => warnings(page)).toEqual([expect.stringMatching(/^⚠ looks-rotated: .*--orientation rot270/)]);
    await page.screenshot({ path: join(SHOTS, 'slices-orientation-warning-before.png') });

    await page.getByTestId('orient-anatomy').click();
    await expect.poll(() => page.getByTestId('orientation').textContent(), { timeout: 30_000 }).toBe('rot270');
    await expect.poll(() => warnings(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'slices-orientation-warning-after.png') });
    // The Datasets tab's report no longer lists it either.
    await page.click('[data-tab="datasets"]');
    expect(await page.locator('body').textContent()).not.toMatch(/looks-rotated/);

    // Mirrored by hand: the warning comes back as "looks mirrored", with the fix.
    await page.click('[data-tab="browser"]');
    await page.keyboard.press('h');
    await expect.poll(() => warnings(page)).toEqual([expect.stringMatching(/^⚠ looks-mirrored: .*rot270/)]);
    await page.keyboard.press('h');
    await expect.poll(() => warnings(page)).toEqual([]);
  }, 180_000);
});
