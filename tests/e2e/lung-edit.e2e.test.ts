/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LungCorrections } from '../../src-main/engine/annotations/lung-corrections';
import { openDataset } from '../../src-main/engine/datasets/open-dataset';
import { lungMask } from '../../src-main/engine/imaging/lung-mask';
import { edgesFromDisplay, lungSides } from '../../src-shared/lung-sides';
import { IDENTITY_ORIENTATION } from '../../src-shared/orientation';
import { measureSlice } from '../../src-shared/slice-measurements';
import { at, openSampleToAnnotate, stroke } from '../fixtures/annotate-page';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';

/** The truth column's "% of lung" in the slice browser's measurements panel. */
const ofLung = async (page: Page) => (await page.getByTestId('lung-involved').first().textContent())?.trim();
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);

describe.skipIf(!HAVE_CHROMIUM)('correcting the lung mask in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let workspace: string;
  let sampleRoot: string;
  /** A slice of the built-in sample with lesion, and a pixel of chest wall beside its image-left lung (no lung, no lesion) to paint. */
  let target: { id: string; spot: [number, number]; computedShare: string };

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-e2e-lung-edit-');
    sampleRoot = join(workspace, 'sample');
    const dataset = await openDataset(sampleRoot);
    for (const ref of dataset.slices) {
      const slice = await dataset.load(ref);
      let lesion = 0;
      for (const v of slice.mask) lesion += v > 0 ? 1 : 0;
      if (lesion < 150) continue;
      const lung = lungMask(slice.image, slice.width, slice.height).labels;
      // Beside the lateral wall of the image-left lung (the patient's right, as stored) on the middle row, in
      // the chest wall: where the computed mask misses consolidation against the ribs on real CT.
      const y = Math.floor(slice.height / 2);
      let edge = 0;
      while (edge < slice.width && lung[y * slice.width + edge] === 0) edge++;
      const x = edge - 5;
      const clear = (cx: number, cy: number) => lung[cy * slice.width + cx] === 0 && slice.mask[cy * slice.width + cx] === 0 && slice.image[cy * slice.width + cx]! > 60;
      const spot: [number, number] | null = x > 8 && [-16, -8, 0, 8, 16].every((dy) => clear(x, y + dy)) ? [x, y] : null;
      if (!spot) continue;
      const sides = lungSides(lung, slice.width, slice.height, edgesFromDisplay(IDENTITY_ORIENTATION));
      const computedShare = pct(measureSlice({ width: slice.width, height: slice.height, lesion: slice.mask, classes: slice.labels ?? null, lung, spacing: null, sides }).lungInvolved);
      target = { id: ref.id, spot, computedShare };
      break;
    }
    expect(target).toBeDefined();
    ({ server, browser, context, page } = await openApp({ workspace, dataRoots: [], viewport: { width: 1440, height: 900 } }));
  }, 120_000);

  afterAll(async () => {
    await closeApp({ browser, server }, workspace);
  });

  /** The share of lung involved the saved correction gives, computed here from the workspace's files. */
  async function expectedShare(): Promise<string> {
    const dataset = await openDataset(sampleRoot);
    const slice = await dataset.load(dataset.slices.find((s) => s.id === target.id)!);
    const lung = (await (await LungCorrections.read(workspace, sampleRoot)).corrected(target.id))!;
    expect(lung).toBeDefined();
    const sides = lungSides(lung, slice.width, slice.height, edgesFromDisplay(IDENTITY_ORIENTATION));
    return pct(measureSlice({ width: slice.width, height: slice.height, lesion: slice.mask, classes: slice.labels ?? null, lung, spacing: null, sides }).lungInvolved);
  }

  async function showInSlices() {
    await page.click('[data-tab="browser"]');
    await page.fill('[data-testid="go-to"]', target.id);
    await page.press('[data-testid="go-to"]', 'Enter');
    // The viewer's keys do not act while a text box has focus.
    await page.locator('[data-testid="go-to"]').blur();
    await expect.poll(() => page.textContent('[data-testid="current-slice"]')).toContain(target.id);
  }

  async function openInAnnotate() {
    await page.click('[data-tab="annotate"]');
    await page.click(`[data-testid="annotate-slices"] [data-slice="${target.id}"]`);
    await expect.poll(() => page.textContent('[data-testid="annotate-slice"]')).toContain(target.id);
    await page.waitForSelector('[data-testid="lung-source"]');
  }

  it('paints lung on a slice, the measurement follows, a reload keeps it, reset brings the computed lung back', async () => {
    await page.click('[data-tab="datasets"]');
    await page.click('[data-testid="open-sample"]');
    await showInSlices();
    await page.keyboard.press('4');
    await expect.poll(() => ofLung(page)).toBe(target.computedShare);
    expect(await page.textContent('[data-testid="lung-source"]')).toContain('computed');

    // "Correct the lung mask…" opens this slice in Annotate with the lung as the target (key 3 there),
    // the patient's right lung, and a brush stroke down the lung's lateral wall.
    await page.click('[data-testid="correct-lung"]');
    await expect.poll(() => page.textContent('[data-testid="annotate-slice"]')).toContain(target.id);
    await page.waitForSelector('[data-testid="lung-side"]');
    expect(await page.textContent('[data-testid="lung-source"]')).toContain('computed from the CT');
    await page.selectOption('[data-testid="lung-side"]', 'right');
    await page.click('[data-tool="brush"]');
    const [x, y] = target.spot;
    await stroke(page, [x, y - 16], [x, y + 16]);
    await expect.poll(() => page.textContent('[data-testid="lung-source"]'), { timeout: 15_000 }).toContain('corrected by you');
    await page.waitForSelector('[data-testid="annotate-saved"]');
    // Undo takes the stroke back: the lung equals the computed one again and is saved as such; redo restores it.
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.textContent('[data-testid="lung-source"]')).toContain('computed from the CT');
    await expect.poll(async () => (await LungCorrections.read(workspace, sampleRoot)).corrected(target.id)).toBeUndefined();
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => page.textContent('[data-testid="lung-source"]')).toContain('corrected by you');
    await page.waitForSelector('[data-testid="annotate-saved"]');
    await expect.poll(async () => (await (await LungCorrections.read(workspace, sampleRoot)).state(target.id)).version).toBe(3);
    const corrected = await expectedShare();
    // Stored as the stored picture has it: the patient's right lung, shown radiologically, is the image-left lung (1).
    expect((await (await LungCorrections.read(workspace, sampleRoot)).corrected(target.id))![y * 256 + x]).toBe(1);
    expect(corrected).not.toBe(target.computedShare);
    // The Annotate panel says the same figure as the slice browser will.
    expect((await page.textContent('[data-testid="annotate-lung-involved"]'))?.trim()).toBe(corrected);
    await page.screenshot({ path: join(SHOTS, 'lung-edit.png') });

    await showInSlices();
    await expect.poll(() => ofLung(page)).toBe(corrected);
    expect(await page.textContent('[data-testid="lung-source"]')).toContain('corrected by you');
    expect(await page.getByTestId('legend').textContent()).toContain('lung: corrected by you');
    await page.screenshot({ path: join(SHOTS, 'lung-edit-slices.png') });
    // Turning the picture keeps the correction aligned: the same figure, the painted lung turned with the CT.
    await page.keyboard.press('r');
    await expect.poll(() => ofLung(page)).toBe(corrected);
    await page.keyboard.press('r');
    await page.keyboard.press('r');
    await page.keyboard.press('r');

    // A reload (same tab, same slice) still shows the corrected lung.
    await page.reload();
    await expect.poll(() => page.textContent('[data-testid="current-slice"]'), { timeout: 30_000 }).toContain(target.id);
    await expect.poll(() => ofLung(page)).toBe(corrected);
    expect(await page.textContent('[data-testid="lung-source"]')).toContain('corrected by you');

    // Reset to computed in Annotate: the slice browser measures with the computed lung again.
    await openInAnnotate();
    // The Annotate panel reads the slice's lung state after it opens (CI once read it before).
    await expect.poll(() => page.textContent('[data-testid="lung-source"]')).toContain('corrected by you');
    await page.click('[data-testid="lung-reset"]');
    await expect.poll(() => page.textContent('[data-testid="lung-source"]')).toContain('computed from the CT');
    expect(await (await LungCorrections.read(workspace, sampleRoot)).corrected(target.id)).toBeUndefined();
    // The history keeps every step: the stroke, its undo (saved as the computed lung), the redo, the reset.
    const history = (await (await LungCorrections.read(workspace, sampleRoot)).state(target.id)).history;
    expect(history.map((v) => [v.status, v.tool])).toEqual([
      ['corrected', 'brush'],
      ['unlabelled', 'undo (back to computed)'],
      ['corrected', 'redo'],
      ['unlabelled', 'reset to computed'],
    ]);
    expect(await page.getByTestId('lung-history').textContent()).toMatch(/reset to computed/);
    await showInSlices();
    await expect.poll(() => ofLung(page)).toBe(target.computedShare);
    expect(await page.textContent('[data-testid="lung-source"]')).toContain('computed');
  }, 180_000);

  it('offers lesion painted outside the lung as "add to lung"', async () => {
    await openInAnnotate();
    // A ground-glass dab in the chest wall, outside both lungs.
    await page.keyboard.press('1');
    await page.click('[data-tool="brush"]');
    const [x, y] = target.spot;
    const point = await at(page, x, y);
    await page.mouse.click(point.x, point.y);
    await page.waitForSelector('[data-testid="lesion-outside-lung"]');
    await page.click('[data-testid="add-lesion-to-lung"]');
    await expect.poll(() => page.locator('[data-testid="lesion-outside-lung"]').count()).toBe(0);
    await expect.poll(() => page.textContent('[data-testid="lung-source"]')).toContain('corrected by you');
    await page.waitForSelector('[data-testid="annotate-saved"]');
    expect((await (await LungCorrections.read(workspace, sampleRoot)).corrected(target.id))![y * 256 + x]).toBeGreaterThan(0);
  }, 120_000);

  it('saves again a lung stroke whose tab was killed before its autosave', async () => {
    const tab = await context.newPage();
    await openSampleToAnnotate(tab, server.url);
    await tab.click(`[data-testid="annotate-slices"] [data-slice="${target.id}"]`);
    await tab.waitForSelector(`[data-testid="annotate-slice"]:has-text("${target.id}")`);
    await tab.waitForSelector('[data-testid="annotate-saved"]');
    const before = await (await LungCorrections.read(workspace, sampleRoot)).state(target.id);
    await tab.keyboard.press('3');
    await tab.click('[data-tool="brush"]');
    const [x, y] = target.spot;
    const cdp = await context.newCDPSession(tab);
    await stroke(tab, [x - 3, y - 30], [x - 3, y - 20]);
    const crashed = tab.waitForEvent('crash');
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    // Killed within the 0.6 s autosave delay: only the journal holds the stroke.
    expect((await (await LungCorrections.read(workspace, sampleRoot)).state(target.id)).version).toBe(before.version);

    // The first page, reloaded (a new tab as far as the journal is concerned), replays it in Annotate.
    await page.reload();
    await page.click('[data-tab="annotate"]');
    await expect.poll(() => page.locator('[data-testid="annotate-recovered"]').textContent()).toContain(`${target.id} (lung)`);
    const after = await (await LungCorrections.read(workspace, sampleRoot)).state(target.id);
    expect(after.version).toBe(before.version + 1);
    expect(after.source).toBe('corrected');
    expect(after.history.at(-1)!.tool).toMatch(/recovered/);
    expect(after.lung!.labels[(y - 25) * 256 + x - 3]).toBeGreaterThan(0);
  }, 120_000);
});
