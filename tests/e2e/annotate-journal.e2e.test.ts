/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { journalEntries, openSampleToAnnotate, stroke, version } from '../fixtures/annotate-page';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';

const SIZE = 256;
/** What "another tab" saves meanwhile: a consolidation block the stroke does not touch. */
const OTHER = new Uint8Array(SIZE * SIZE).map((_, i) => (Math.floor(i / SIZE) >= 150 && Math.floor(i / SIZE) <= 170 && i % SIZE >= 100 && i % SIZE <= 140 ? 2 : 0));
const OTHER_PIXELS = 21 * 41;

/** Label-layer pixels of each class colour (amber ground-glass, red consolidation), at the slice's own size. */
async function shownLabels(page: Page): Promise<{ ggo: number; cons: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="annotate-labels"]')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const counts = { ggo: 0, cons: 0 };
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0) counts[data[i + 1]! > 150 ? 'ggo' : 'cons']++;
    return counts;
  });
}

describe.skipIf(!HAVE_CHROMIUM)('the annotation journal replayed after another tab saved the slice, in Chromium', () => {
  let server: Served;
  let browser: Browser;
  let context: BrowserContext;
  let workspace: string;
  let datasetId: string;
  const post = async <T,>(channel: string, body: unknown): Promise<T> => {
    const reply = (await (await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) })).json()) as { ok: boolean; value: T; error?: { message: string } };
    if (!reply.ok) throw new Error(reply.error?.message);
    return reply.value;
  };
  const saved = (sliceId: string) => post<{ version: number; labels: string; history: { version: number; tool: string }[] }>('annotations/get', { datasetId, sliceId });

  /** A new tab showing the slice at `position` of the list, all saved: the tab, the slice, and its saved version. */
  async function tabAt(position: number): Promise<{ tab: Page; sliceId: string; before: number }> {
    const tab = await context.newPage();
    await openSampleToAnnotate(tab, server.url);
    const sliceId = (await tab.getAttribute(`[data-testid="annotate-slices"] li:nth-child(${position})`, 'data-slice'))!;
    await tab.click(`[data-slice="${sliceId}"]`);
    await tab.waitForSelector(`[data-testid="annotate-slice"]:has-text("${sliceId}")`);
    await tab.waitForSelector('[data-testid="annotate-saved"]');
    return { tab, sliceId, before: await version(tab) };
  }

  /**
   * Paints a ground-glass stroke and kills the tab's renderer at once, well within the 0.6 s autosave
   * delay (the stroke is only journaled); then "another tab" saves a different label of the slice.
   */
  async function strokeKillAndSaveElsewhere({ tab, sliceId, before }: { tab: Page; sliceId: string; before: number }): Promise<void> {
    await tab.keyboard.press('b');
    await tab.keyboard.press('1');
    const cdp = await context.newCDPSession(tab);
    await stroke(tab, [60, 60], [180, 70]);
    const crashed = tab.waitForEvent('crash');
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    expect((await saved(sliceId)).version).toBe(before);
    const other = await post<{ version: number }>('annotations/save', { datasetId, sliceId, baseVersion: before, labels: Buffer.from(OTHER).toString('base64'), tool: 'brush', source: 'manual', status: 'corrected' });
    expect(other.version).toBe(before + 1);
  }

  /** Opens a slice from the banner of refused replays; its conflict offers the two ways out. */
  async function openConflict(tab: Page, sliceId: string): Promise<void> {
    expect(await tab.textContent('[data-testid="annotate-slice"]')).not.toContain(sliceId);
    await tab.click(`[data-slice-open="${sliceId}"]`);
    await tab.waitForSelector(`[data-testid="annotate-slice"]:has-text("${sliceId}")`);
    await tab.waitForSelector('[data-testid="annotate-conflict"]');
    expect(await tab.textContent('[data-testid="annotate-conflict"]')).toMatch(/saved elsewhere/);
  }

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-annotate-journal-', { builtInSample: false });
    // The app's built-in sample, small (it keeps an existing one).
    datasetId = join(workspace, 'sample');
    await writeSyntheticSample(datasetId, { count: 6, size: SIZE, seed: 1 });
    // Each tab of this test is a new page of the context: the app is loaded by the tabs themselves.
    ({ server, browser, context } = await openApp({ workspace, dataRoots: [], viewport: { width: 1440, height: 1040 }, load: false }));
  }, 120_000);

  afterAll(async () => {
    await closeApp({ browser, server }, workspace);
  });

  it('replays killed tabs’ strokes onto slices saved elsewhere since: reported apart, never overwriting, then kept or dropped as asked', async () => {
    // Two tabs each leave a journaled stroke (both open before either dies, so neither replays the other's).
    const first = await tabAt(2);
    const second = await tabAt(3);
    await strokeKillAndSaveElsewhere(first);
    await strokeKillAndSaveElsewhere(second);

    // A new tab replays both: the saves are refused, and the view says so instead of "saved again".
    const tab = await context.newPage();
    await openSampleToAnnotate(tab, server.url);
    const banner = '[data-testid="annotate-recovered-conflict"]';
    for (const { sliceId } of [first, second]) await tab.waitForSelector(`${banner} [data-slice-open="${sliceId}"]`, { timeout: 20_000 });
    expect(await tab.locator('[data-testid="annotate-recovered"]').count()).toBe(0);
    for (const { sliceId, before } of [first, second]) {
      const now = await saved(sliceId);
      expect(now.version).toBe(before + 1);
      expect(Buffer.from(now.labels, 'base64').equals(Buffer.from(OTHER))).toBe(true);
      expect(await tab.textContent('[data-testid="annotate-unsaved"]')).toContain(sliceId);
    }
    expect(await journalEntries(tab)).toBe(2);

    // Keep mine: saved on top of the other tab's version, which stays in the history.
    await openConflict(tab, first.sliceId);
    // On screen: the recovered labels (the stroke is ground-glass), not the other tab's consolidation block.
    expect((await shownLabels(tab)).ggo).toBeGreaterThan(0);
    await tab.screenshot({ path: join(SHOTS, 'annotate-replay-conflict.png') });
    await tab.click('[data-testid="conflict-keep-mine"]');
    await expect.poll(async () => (await saved(first.sliceId)).version, { timeout: 20_000 }).toBe(first.before + 2);
    const kept = await saved(first.sliceId);
    expect(kept.history.at(-1)!.tool).toMatch(/recovered/);
    expect(kept.history.at(-1)!.tool).toMatch(/keep-mine/);
    expect(kept.history.some((h) => h.version === first.before + 1)).toBe(true);
    const labels = Buffer.from(kept.labels, 'base64');
    let painted = 0;
    for (let x = 70; x < 170; x++) if (labels[65 * SIZE + x] === 1) painted++;
    expect(painted).toBe(100);
    expect(labels[160 * SIZE + 120]).not.toBe(2);
    await expect.poll(() => tab.locator('[data-testid="annotate-conflict"]').count()).toBe(0);
    expect(await tab.locator(`${banner} [data-slice-open="${first.sliceId}"]`).count()).toBe(0);
    expect(await journalEntries(tab)).toBe(1);

    // Load the other edit: the recovered stroke goes, journal entry included; the other version stays current.
    await openConflict(tab, second.sliceId);
    await tab.click('[data-testid="conflict-load-other"]');
    await expect.poll(() => shownLabels(tab)).toEqual({ ggo: 0, cons: OTHER_PIXELS });
    await tab.waitForSelector('[data-testid="annotate-saved"]');
    expect(await tab.textContent('[data-testid="annotate-version"]')).toBe(String(second.before + 1));
    expect(await tab.locator(banner).count()).toBe(0);
    expect(await journalEntries(tab)).toBe(0);

    // A reload replays nothing.
    await tab.reload();
    await tab.waitForSelector('[data-testid="annotate-slice"]:has-text("synth_")');
    await tab.waitForTimeout(1000);
    expect(await tab.locator(`${banner}, [data-testid="annotate-recovered"]`).count()).toBe(0);
    expect((await saved(first.sliceId)).version).toBe(first.before + 2);
    expect((await saved(second.sliceId)).version).toBe(second.before + 1);
  }, 120_000);
});
