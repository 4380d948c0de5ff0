/// <reference lib="dom" />
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writeNifti } from '../fixtures/nifti-writer';
import { SHOTS } from '../fixtures/screenshots';

// Screenshots of each main screen: into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.
const TINY_RUN = { epochs: '3', size: '32', depth: '2', baseFilters: '4', batch: '8' };

/** Counts pixels of the viewer canvas that carry an overlay colour (grayscale CT has r = g = b). */
async function colouredPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.viewer-canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - data[i + 1]!) > 8 || Math.abs(data[i + 1]! - data[i + 2]!) > 8) n++;
    return n;
  });
}

async function fillTraining(page: Page, values: Record<string, string>): Promise<void> {
  await page.click('[data-tab="training"]');
  for (const [name, value] of Object.entries(values)) {
    const field = `[data-testid="train-form"] [name="${name}"]`;
    if (name === 'recipe') await page.selectOption(field, value);
    else await page.fill(field, value);
  }
  await page.click('[data-testid="train-form"] button[type="submit"]');
}

describe.skipIf(!HAVE_CHROMIUM)('the app in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  /** Every Content-Security-Policy violation Chromium reports for the app's page. */
  const cspViolations: string[] = [];

  beforeAll(async () => {
    // Lives for the whole suite (the per-test temp folders are removed after each test).
    workspace = await e2eWorkspace('covseg-e2e-');
    // A small CT volume with labels, under the one folder the server may open.
    const volumes = join(workspace, 'data', 'volumes');
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'), { recursive: true });
    const n = 48;
    const hu = new Int16Array(n * n * 3).map((_, v) => Math.round(-1000 + ((v % n) / n) * 1400));
    const labels = new Uint8Array(n * n * 3).map((_, v) => ((v % n) > 10 && (v % n) < 20 && Math.floor(v / n) % n > 10 && Math.floor(v / n) % n < 20 ? 1 : 0));
    await writeNifti(join(volumes, 'images', 'case1.nii.gz'), { shape: [n, n, 3], values: hu, datatype: 'int16' });
    await writeNifti(join(volumes, 'labels', 'case1.nii.gz'), { shape: [n, n, 3], values: labels, datatype: 'uint8' });
    ({ server, browser, page } = await openApp({
      workspace,
      dataRoots: [join(workspace, 'data')],
      viewport: { width: 1300, height: 820 },
      beforeLoad: (p) =>
        p.on('console', (message) => {
          if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
        }),
    }));
  }, 180_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('exchanges the URL token for a cookie: the address bar and history keep no token', async () => {
    expect(server.url).toMatch(/\?token=/);
    // The address keeps only the app's own view state (tab, dataset, ...), never the token.
    expect(page.url()).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/(\\?|$)`));
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    const seen = await page.evaluate(async () => ({
      cookie: document.cookie,
      historyLength: history.length,
      info: ((await (await fetch('/api/system/info', { method: 'POST', body: '{}' })).json()) as { ok: boolean }).ok,
    }));
    // HttpOnly: page scripts cannot read the token, yet same-origin requests carry it.
    expect(seen.cookie).not.toContain('covseg_token');
    expect(seen.info).toBe(true);
    // about:blank, then the app: the page that carried the token was replaced, not stacked.
    expect(seen.historyLength).toBe(2);
    await page.screenshot({ path: join(SHOTS, 'after-token-exchange.png') });
  });

  it('opens the printed URL from a link on another site (where a 302 would lose the SameSite=Strict cookie)', async () => {
    const context = await browser.newContext();
    try {
      const elsewhere = await context.newPage();
      await elsewhere.setContent(`<a id="go" href="${server.url}">open CovSeg</a>`);
      await elsewhere.click('#go');
      await elsewhere.waitForURL(`http://127.0.0.1:${server.port}/`);
      const answer = await elsewhere.evaluate(async () => (await fetch('/api/system/info', { method: 'POST', body: '{}' })).status);
      expect(answer).toBe(200);
    } finally {
      await context.close();
    }
  });

  it('refuses requests and sockets without the token, and the query-string token off the page route', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/system/info`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/api/system/info?token=${server.token}`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/api/system/info`, { method: 'POST', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${base}/api/system/info`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` } });
    expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
    const attempt = (url: string, headers: Record<string, string> = {}) =>
      new Promise<string>((r) => {
        const socket = new WebSocket(url, { headers });
        socket.on('open', () => {
          socket.close();
          r('open');
        });
        socket.on('error', () => r('refused'));
      });
    expect(await attempt(`ws://127.0.0.1:${server.port}/events`)).toBe('refused');
    expect(await attempt(`ws://127.0.0.1:${server.port}/events?token=${server.token}`)).toBe('refused');
    expect(await attempt(`ws://127.0.0.1:${server.port}/events`, { Cookie: `covseg_token_${server.port}=${server.token}`, Origin: 'http://evil.example' })).toBe('refused');
    expect(await attempt(`ws://127.0.0.1:${server.port}/events`, { Cookie: `covseg_token_${server.port}=${server.token}`, Origin: `http://127.0.0.1:${server.port}` })).toBe('open');
  });

  it('validates arguments and refuses folders outside the allowed roots', async () => {
    const post = (channel: string, body: unknown) =>
      fetch(`http://127.0.0.1:${server.port}/api/${channel}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ ok: boolean; error?: { code: string; message: string } }>);
    expect((await post('slices/thumbnail', { datasetId: 'x', sliceId: 'y', size: 'big' })).error?.code).toBe('invalid-argument');
    expect((await post('datasets/open', { path: '/etc' })).error?.message).toMatch(/outside the folders/);
    expect((await post('nothing/here', {})).error?.code).toBe('unknown-command');
  });

  it('opens the built-in sample and shows the dataset check', async () => {
    await page.getByTestId('slice-count').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('slice-count').textContent()).toMatch(/120 valid of 120 slices/);
    expect(await page.getByTestId('backend').textContent()).toMatch(/wasm/);
    await page.screenshot({ path: join(SHOTS, 'screen-datasets.png') });
  });

  it('steps through slices with the keyboard and toggles overlays, changing the canvas pixels', async () => {
    await page.click('[data-tab="browser"]');
    await expect.poll(() => page.getByTestId('current-slice').textContent()).toMatch(/synth_p001_s01 \(1\/120\)/);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('current-slice').textContent()).toMatch(/synth_p001_s02 \(2\/120\)/);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe('synth_p001_s01');
    // Largest lesion first, so the slice has an overlay to see.
    await page.selectOption('[data-testid="sort-select"]', 'lesion');
    // Measure only once the canvas shows the new first slice, not the one still on screen.
    const largest = (await page.locator('[data-testid="thumbnail-strip"] .thumb .name').first().textContent())!.trim();
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe(largest);
    await expect.poll(() => colouredPixels(page)).toBeGreaterThan(500);
    const withTruth = await colouredPixels(page);
    await page.keyboard.press('1');
    await expect.poll(() => colouredPixels(page)).toBe(0);
    await page.keyboard.press('1');
    await expect.poll(() => colouredPixels(page)).toBe(withTruth);
    // The strip renders only what is in view, however many slices there are.
    expect(await page.locator('[data-testid="thumbnail-strip"] .thumb').count()).toBeLessThan(30);
    await page.screenshot({ path: join(SHOTS, 'screen-slices.png') });
  });

  it('launches a tiny run with an augmentation recipe and watches the chart gain points until it completes', async () => {
    await fillTraining(page, { ...TINY_RUN, recipe: 'fliprot+mixup' });
    const progress = page.getByTestId('run-progress');
    await progress.waitFor();
    const chart = page.getByTestId('curves').first();
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 120_000 }).toBe('1');
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 120_000 }).toBe('3');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 120_000 }).toBe('completed');
    const runId = await progress.getAttribute('data-run');
    const detail = (await (await fetch(`http://127.0.0.1:${server.port}/api/runs/get`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify({ runId }) })).json()) as { value: { config: { recipe?: { name: string; mode: string } } } };
    expect(detail.value.config.recipe).toMatchObject({ name: 'fliprot+mixup', mode: 'online' });
    await page.screenshot({ path: join(SHOTS, 'screen-training.png') });
  }, 300_000);

  it('sorts slices by the worst Dice of the finished run and shows the diff layer', async () => {
    await page.click('[data-tab="browser"]');
    const select = page.getByTestId('run-select');
    await expect.poll(() => select.locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    const runId = await select.locator('option').nth(1).getAttribute('value');
    await select.selectOption(runId!);
    await page.getByTestId('slice-score').waitFor({ timeout: 120_000 });
    await page.selectOption('[data-testid="filter-select"]', 'with-lesion');
    await page.selectOption('[data-testid="sort-select"]', 'worst-dice');
    const dice = async (n: number) => Number((await page.locator('.thumb .meta').nth(n).textContent())!.match(/Dice ([\d.]+)/)![1]);
    await expect.poll(() => page.locator('.thumb .meta').first().textContent()).toMatch(/Dice/);
    expect(await dice(0)).toBeLessThanOrEqual(await dice(1));
    expect(await dice(1)).toBeLessThanOrEqual(await dice(2));
    await page.keyboard.press('3');
    await page.screenshot({ path: join(SHOTS, 'screen-slices-diff.png') });
    await page.keyboard.press('3');
  }, 180_000);

  it('keeps a run going across a page reload, then cancels it', async () => {
    await fillTraining(page, { ...TINY_RUN, epochs: '200' });
    const progress = page.getByTestId('run-progress');
    await expect.poll(() => progress.getAttribute('data-state'), { timeout: 60_000 }).toBe('running');
    const runId = await progress.getAttribute('data-run');
    await expect.poll(() => page.getByTestId('curves').first().getAttribute('data-points'), { timeout: 120_000 }).not.toBe('0');
    await page.reload();
    await page.click('[data-tab="training"]');
    const again = page.getByTestId('run-progress');
    await expect.poll(() => again.getAttribute('data-run'), { timeout: 60_000 }).toBe(runId);
    expect(await again.getAttribute('data-state')).toBe('running');
    const before = Number(await page.getByTestId('curves').first().getAttribute('data-points'));
    expect(before).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.getByTestId('curves').first().getAttribute('data-points')), { timeout: 120_000 }).toBeGreaterThan(before);
    // A second training while one runs waits in the queue (limit 1), visibly, and can be taken off it.
    await fillTraining(page, { ...TINY_RUN, epochs: '2' });
    await expect.poll(() => page.getByTestId('queue-position').textContent(), { timeout: 60_000 }).toMatch(/position 1/);
    const queue = page.getByTestId('training-queue');
    await expect.poll(() => queue.locator('li[data-state="queued"]').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'screen-training-queue.png') });
    await page.getByRole('button', { name: 'Remove from queue' }).click();
    await expect.poll(() => queue.count(), { timeout: 30_000 }).toBe(0);
    // The view goes back to the run that is training.
    await expect.poll(() => again.getAttribute('data-run'), { timeout: 30_000 }).toBe(runId);
    await page.getByTestId('cancel-run').click();
    await expect.poll(() => again.getAttribute('data-state'), { timeout: 120_000 }).toBe('cancelled');
    await page.click('[data-tab="runs"]');
    const row = page.locator(`[data-testid="runs-table"] tr[data-run="${runId}"]`);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('cancelled');
    const finished = page.locator('[data-testid="runs-table"] tr[data-state="completed"]').first();
    await finished.click();
    await page.getByTestId('run-detail').waitFor();
    await page.screenshot({ path: join(SHOTS, 'screen-runs.png') });
  }, 300_000);

  it('Augmentation Lab: the preview changes when a slider moves or the seed re-rolls; weathering compares two schedules', async () => {
    await page.click('[data-tab="lab"]');
    const canvasSum = (testid: string) =>
      page.evaluate((id) => {
        const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`)!;
        if (canvas.width < 10) return -1;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0;
        for (let i = 0; i < data.length; i += 4) sum += data[i]! * ((i / 4) % 97);
        return sum;
      }, testid);
    await expect.poll(() => canvasSum('lab-augmented'), { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await canvasSum('lab-augmented');
    expect(first).not.toBe(await canvasSum('lab-original'));
    // Move the elastic alpha slider: the preview must change.
    await page.locator('input[name="param-alpha"]').evaluate((input: HTMLInputElement) => {
      input.value = '25';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect.poll(() => canvasSum('lab-augmented'), { timeout: 30_000 }).not.toBe(first);
    const afterSlider = await canvasSum('lab-augmented');
    await page.getByTestId('reroll').click();
    await expect.poll(() => canvasSum('lab-augmented'), { timeout: 30_000 }).not.toBe(afterSlider);
    await page.getByTestId('run-weathering').click();
    await expect.poll(() => page.getByTestId('quality-chart').getAttribute('data-series'), { timeout: 60_000 }).toBe('2');
    // The chart really drew: its canvas has non-background pixels.
    await expect.poll(() => canvasSum('quality-chart')).toBeGreaterThan(0);
    expect(await page.getByTestId('generation-quality').textContent()).toMatch(/quality 30: PSNR [\d.]+ dB, SSIM/);
    const heatAtEnd = await canvasSum('difference');
    await page.locator('input[name="generation"]').evaluate((input: HTMLInputElement) => {
      input.value = '1';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect.poll(() => canvasSum('difference')).not.toBe(heatAtEnd);
    await page.screenshot({ path: join(SHOTS, 'screen-lab.png'), fullPage: true });
  }, 180_000);

  it('opens a NIfTI volume by path and changes window/level in the viewer', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', join(workspace, 'data', 'volumes'));
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(/3 valid of 3 slices/);
    await page.click('[data-tab="browser"]');
    await page.getByTestId('window-level').waitFor();
    await page.selectOption('[data-testid="sort-select"]', 'name');
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe('case1:z000');
    const brightness = () =>
      page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('.viewer-canvas')!;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0;
        for (let i = 0; i < data.length; i += 4) sum += data[i]!;
        return sum;
      });
    await page.keyboard.press('1');
    const lung = await brightness();
    await page.selectOption('[data-testid="window-preset"]', 'mediastinum');
    // A narrow soft-tissue window turns most of this -1000..400 HU ramp black.
    await expect.poll(brightness).toBeLessThan(lung * 0.8);
    // Outside the allowed root the server refuses, with the fix.
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', '/etc');
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.getByTestId('dataset-error').textContent()).toMatch(/outside the folders the app may read/);
  });

  it('ran every screen under the strict Content-Security-Policy without a violation', () => {
    expect(cspViolations).toEqual([]);
  });
});
