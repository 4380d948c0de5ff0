/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { readRun } from '../../src-main/engine/runs/read-run';
import { train } from '../../src-main/engine/training/trainer';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { openSampleToAnnotate, stroke, version } from '../fixtures/annotate-page';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';
import { tinyConfig } from '../fixtures/tiny-sample';

const BASE_RUN = 'base-run';
/**
 * Making the README figure (COVSEG_SCREENSHOTS=docs): a base model that has learned something, so the
 * figure shows lesions rather than a 2-epoch model's haze; the test's assertions are the same.
 */
const DOCS = process.env.COVSEG_SCREENSHOTS === 'docs';

/** Pixels of the label layer in each class colour (amber ground-glass, red consolidation). */
async function labelColours(page: Page): Promise<{ ggo: number; cons: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="annotate-labels"]')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let ggo = 0;
    let cons = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      if (data[i + 1]! > 150) ggo++;
      else cons++;
    }
    return { ggo, cons };
  });
}

/** Waits until a version after `after` is saved with this status and nothing is left unsaved. */
async function waitSaved(page: Page, expected: string, after: number): Promise<void> {
  await page.waitForFunction(
    ([s, v]) =>
      document.querySelector('[data-testid="annotate-status"]')?.textContent === s &&
      Number(document.querySelector('[data-testid="annotate-version"]')?.textContent) > Number(v) &&
      document.querySelector('[data-testid="annotate-saved"]') !== null,
    [expected, after] as const,
    { timeout: 20_000 },
  );
}

describe.skipIf(!HAVE_CHROMIUM)('the annotation loop in Chromium: prediction, correction, review queue, fine-tuning, kill-safe strokes', () => {
  let server: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let workspace: string;
  const post = async <T,>(channel: string, body: unknown): Promise<T> => {
    const reply = (await (await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) })).json()) as {
      ok: boolean;
      value: T;
      error?: { message: string };
    };
    if (!reply.ok) throw new Error(reply.error?.message);
    return reply.value;
  };

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-annotate-assist-', { builtInSample: false });
    // The app's built-in sample, smaller than the 120 slices it writes by itself (it keeps an existing one).
    const sample = join(workspace, 'sample');
    await writeSyntheticSample(sample, { count: DOCS ? 36 : 12, size: 256, seed: 1 });
    // The "current model": a tiny U-Net trained on the sample, as the Training tab would make it.
    const base = DOCS ? { epochs: 20, size: 64, lr: 3e-3, loss: 'bce+dice', model: { name: 'unet', options: { depth: 3, baseFilters: 8 } } } : { epochs: 2, size: 32 };
    await train({ runDir: join(workspace, 'runs', BASE_RUN), config: tinyConfig(sample, base) });
    ({ server, browser, context, page } = await openApp({ workspace, dataRoots: [], viewport: { width: 1440, height: 1040 }, load: false }));
  }, DOCS ? 900_000 : 180_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('starts from the prediction, corrects it with the brush, reviews, goes to the next slice of the queue, fine-tunes, and shows the new prediction', async () => {
    await openSampleToAnnotate(page, server.url);
    const datasetId = join(workspace, 'sample');
    const first = (await page.textContent('[data-testid="annotate-slice"]'))!.split(' ')[0]!;

    // Model assistance: the run's prediction shows, and is taken over at a threshold.
    await page.selectOption('[data-testid="annotate-run"]', BASE_RUN);
    await page.waitForSelector(`[data-testid="annotate-prediction-run"]:has-text("${BASE_RUN}")`);
    await page.fill('[data-testid="prediction-threshold"]', DOCS ? '0.5' : '0.3');
    const v0 = await version(page);
    await page.click('[data-testid="accept-prediction"]');
    await waitSaved(page, 'predicted', v0);
    const predicted = await labelColours(page);
    expect(predicted.ggo).toBeGreaterThan(0);
    const history = (await post<{ history: { source: string; runId?: string }[] }>('annotations/get', { datasetId, sliceId: first })).history;
    expect(history.at(-1)).toMatchObject({ source: 'prediction', runId: BASE_RUN });

    // Correction: a consolidation stroke turns it into a corrected slice.
    await page.keyboard.press('b');
    await page.keyboard.press('2');
    const v1 = await version(page);
    await stroke(page, [40, 128], [200, 140]);
    expect((await labelColours(page)).cons).toBeGreaterThan(predicted.cons);
    await waitSaved(page, 'corrected', v1);

    // Review, then N: the next slice of the queue (most uncertain first) that is not reviewed.
    const v2 = await version(page);
    await page.click('[data-testid="mark-reviewed"]');
    await waitSaved(page, 'reviewed', v2);
    expect(await page.textContent(`[data-slice="${first}"] .badge`)).toBe('R');
    await page.click('[data-testid="load-queue"]');
    await page.waitForSelector('.queue-list li');
    const queue = await post<{ sliceId: string; uncertainty: number }[]>('annotations/queue', { runId: BASE_RUN, datasetId, order: 'uncertainty' });
    expect(queue.some((q) => q.sliceId === first)).toBe(false);
    expect(queue.map((q) => q.uncertainty)).toEqual([...queue.map((q) => q.uncertainty)].sort((a, b) => b - a));
    await page.keyboard.press('n');
    await page.waitForSelector(`[data-testid="annotate-slice"]:has-text("${queue[0]!.sliceId}")`);

    // Retrain on the corrected slices, fine-tuning the current model for one epoch.
    await page.selectOption('[data-testid="retrain-from"]', 'current');
    await page.fill('[data-testid="retrain-epochs"]', '1');
    await page.click('[data-testid="annotate-retrain"]');
    await page.waitForSelector('[data-testid="annotate-retrain-state"]', { timeout: 30_000 });
    const newRun = (await page.textContent('[data-testid="annotate-retrain-state"]'))!.split(':')[0]!;
    expect(newRun).not.toBe(BASE_RUN);
    // When it ends, its predictions are the ones shown.
    await page.waitForSelector(`[data-testid="annotate-prediction-run"]:has-text("${newRun}")`, { timeout: 120_000 });
    expect(await page.inputValue('[data-testid="annotate-run"]')).toBe(newRun);
    const child = await readRun(join(workspace, 'runs', newRun));
    expect(child.status.state).toBe('completed');
    expect(child.record.parent).toMatchObject({ runId: BASE_RUN, checkpoint: 'best' });
    expect(child.record.dataset.annotationsVersion).toMatch(/\w+/);
    expect(child.record.split.train).toHaveLength(1);
    await page.click(`[data-slice="${first}"]`);
    await page.waitForSelector(`[data-testid="annotate-slice"]:has-text("${first}")`);
    await page.waitForSelector(`[data-testid="annotate-prediction-run"]:has-text("${newRun}")`);
    await page.screenshot({ path: join(SHOTS, 'screen-annotate-sample.png') });
  }, 240_000);

  it('a stroke made just before the tab is killed is saved after the reload, and the view says which slice had unsaved edits', async () => {
    const datasetId = join(workspace, 'sample');
    const tab = await context.newPage();
    await openSampleToAnnotate(tab, server.url);
    const sliceId = (await tab.getAttribute('[data-testid="annotate-slices"] li:nth-child(3)', 'data-slice'))!;
    await tab.click(`[data-slice="${sliceId}"]`);
    await tab.waitForSelector(`[data-testid="annotate-slice"]:has-text("${sliceId}")`);
    await tab.waitForSelector('[data-testid="annotate-saved"]');
    const before = await version(tab);
    await tab.keyboard.press('b');
    await tab.keyboard.press('1');
    await stroke(tab, [60, 60], [180, 70]);
    // Reported unsaved at once; the renderer is killed well within the 0.6 s autosave delay.
    expect(await tab.textContent('[data-testid="annotate-unsaved"]', { timeout: 2000 })).toContain(sliceId);
    expect(await tab.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('covseg.annotate.pending')).length)).toBe(1);
    const cdp = await context.newCDPSession(tab);
    const crashed = tab.waitForEvent('crash');
    // The renderer dies before it answers: the command's promise is left alone, the crash event awaited.
    void cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    const atKill = await post<{ version: number }>('annotations/get', { datasetId, sliceId });
    expect(atKill.version).toBe(before);

    const again = await context.newPage();
    try {
      await openSampleToAnnotate(again, server.url);
      await again.waitForSelector(`[data-testid="annotate-recovered"]:has-text("${sliceId}")`, { timeout: 20_000 });
      await again.waitForSelector('[data-testid="annotate-saved"]', { timeout: 20_000 });
      const saved = await post<{ version: number; labels: string; history: { tool: string }[] }>('annotations/get', { datasetId, sliceId });
      expect(saved.version).toBe(before + 1);
      expect(saved.history.at(-1)!.tool).toMatch(/recovered/);
      // The stroke is there: a band of ground-glass across rows 60-70 from x 60 to 180.
      const labels = Buffer.from(saved.labels, 'base64');
      let painted = 0;
      for (let x = 70; x < 170; x++) if (labels[65 * 256 + x] === 1) painted++;
      expect(painted).toBe(100);
      // Replayed once: saved, the journal entry is gone, so no later reload replays it again.
      expect(await again.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('covseg.annotate.pending')).length)).toBe(0);
    } finally {
      await again.close();
    }
  }, 120_000);
});
