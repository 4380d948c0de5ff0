/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetOrientation } from '../../src-main/engine/datasets/dataset-orientation';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';
import { writeTurnedSample } from '../fixtures/turned-sample';

async function openFolder(page: Page, path: string, slices: number): Promise<void> {
  await page.click('[data-tab="datasets"]');
  await page.fill('[data-testid="dataset-path"]', path);
  await page.press('[data-testid="dataset-path"]', 'Enter');
  await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${slices} valid of ${slices} slices`));
}

const shownOrientation = (page: Page) => page.getByTestId('orientation').textContent();

describe.skipIf(!HAVE_CHROMIUM)('orientation from anatomy in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let turned: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-e2e-orient-');
    // A synthetic sample stored turned a quarter clockwise (as a scanner export might): the anatomy says rot270.
    turned = join(workspace, 'data', 'turned');
    await writeTurnedSample(join(workspace, 'upright'), turned, { count: 12, size: 160, seed: 3 });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1280, height: 720 } }));
  }, 120_000);

  afterAll(async () => {
    await closeApp({ browser, server }, workspace);
  });

  it('warns that a turned PNG dataset looks rotated, names the fix, and "from anatomy" turns it upright and back after a mirror', async () => {
    await openFolder(page, turned, 12);
    // The dataset report names the orientation the anatomy says.
    await expect.poll(() => page.locator('body').textContent()).toMatch(/looks-rotated/);
    expect(await page.locator('body').textContent()).toMatch(/--orientation rot270/);
    await page.click('[data-tab="browser"]');
    await expect.poll(() => shownOrientation(page)).toBe('none');
    await page.getByTestId('orient-anatomy').click();
    // Reading 12 slices' anatomy takes a moment on a loaded machine.
    await expect.poll(() => shownOrientation(page), { timeout: 30_000 }).toBe('rot270');
    await expect.poll(() => page.getByTestId('orientation-suggestion').textContent()).toMatch(/^anatomy: rot270 \(\d+ of \d+ decided slices, 12 sampled\)$/);
    // Remembered in the workspace, where the CLI and `dataset check` read it.
    await expect.poll(() => readDatasetOrientation(workspace, turned)).toEqual({ rotate: 270, flipH: false, flipV: false });
    await page.screenshot({ path: join(SHOTS, 'slices-orient-from-anatomy.png') });
    // Mirrored by hand (heart on the screen's left), "from anatomy" undoes it.
    await page.keyboard.press('h');
    await expect.poll(() => shownOrientation(page)).toBe('rot270+flipH');
    await page.getByTestId('orient-anatomy').click();
    await expect.poll(() => shownOrientation(page), { timeout: 30_000 }).toBe('rot270');
  }, 120_000);
});
