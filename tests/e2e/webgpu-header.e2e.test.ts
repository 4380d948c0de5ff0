/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAdapter } from '../../src-main/engine/backend/webgpu-adapter';
import { writeJsonAtomic } from '../../src-main/engine/files/atomic-write';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writePair } from '../fixtures/gray-png';
import { SHOTS } from '../fixtures/screenshots';
// Sets VK_ICD_FILENAMES to SwiftShader for this test process only, when it can.
import { NO_SWIFTSHADER } from '../fixtures/swiftshader';

const probe = NO_SWIFTSHADER || !HAVE_CHROMIUM ? undefined : probeAdapter();
const WHY_SKIPPED = NO_SWIFTSHADER ?? (probe && !probe.found ? probe.reason : undefined);
if (WHY_SKIPPED) console.warn(`[tests] the WebGPU header test is skipped: ${WHY_SKIPPED}.`);

describe.skipIf(!HAVE_CHROMIUM || WHY_SKIPPED !== undefined)('the header names the WebGPU adapter (SwiftShader) in Chromium', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-webgpu-header-e2e-', { builtInSample: false });
    // A two-slice dataset the app reopens at start, so it does not write the built-in sample meanwhile.
    const data = join(workspace, 'data');
    for (const name of ['a', 'b']) await writePair(data, name);
    await writeJsonAtomic(join(workspace, 'settings', 'recent-datasets.json'), { recentDatasets: [{ path: data, format: 'png-pairs', slices: 2, openedAt: new Date().toISOString() }] });
    // What `COVSEG_BACKEND=webgpu covseg serve` does: the server computes on WebGPU.
    process.env.COVSEG_BACKEND = 'webgpu';
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [workspace], viewport: { width: 1280, height: 720 } }));
  }, 120_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('shows the backend and the adapter vendor, architecture and description, whole and inside the window', async () => {
    const adapter = probe!.found ? probe!.adapter : undefined;
    const backend = page.getByTestId('backend');
    await expect.poll(() => backend.textContent(), { timeout: 60_000 }).toMatch(/webgpu/);
    const text = (await backend.textContent())!;
    expect(text).toContain(adapter!.description);
    expect(text).toContain(adapter!.vendor);
    expect(text).toContain(adapter!.architecture);
    expect(text).toMatch(/software/);
    // Readable: no part cut off or squeezed out, inside the window at 1280x720.
    const box = await backend.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const parts = Array.from(el.querySelectorAll('*')).map((c) => ({ clipped: c.scrollWidth > c.clientWidth + 1 }));
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, clipped: el.scrollWidth > el.clientWidth + 1 || parts.some((p) => p.clipped) };
    });
    expect(box.clipped).toBe(false);
    expect(box.left).toBeGreaterThanOrEqual(0);
    expect(box.right).toBeLessThanOrEqual(1280);
    expect(box.bottom).toBeLessThanOrEqual(120);
    // The long adapter line does not squeeze the rest: the nine tabs stay on one row and the title on one line
    // (beside the tabs, it wrapped both, and itself into two lines of a 250-px column).
    const layout = await page.evaluate(() => ({
      tabTops: new Set(Array.from(document.querySelectorAll('[role="tab"]')).map((t) => Math.round(t.getBoundingClientRect().top))).size,
      titleHeight: document.querySelector('header strong')!.getBoundingClientRect().height,
      // Height in font sizes: one line is about 1.2.
      backendEms: document.querySelector('[data-testid="backend"]')!.getBoundingClientRect().height / parseFloat(getComputedStyle(document.querySelector('[data-testid="backend"]')!).fontSize),
    }));
    expect(layout.tabTops).toBe(1);
    expect(layout.titleHeight).toBeLessThan(30);
    expect(layout.backendEms).toBeLessThan(2);
    await page.locator('header').screenshot({ path: join(SHOTS, 'screen-webgpu-header.png') });
  }, 120_000);
});
