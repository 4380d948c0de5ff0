/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { contrast } from '../fixtures/contrast';
import { writeGrayPng } from '../fixtures/gray-png';
import { writeNifti } from '../fixtures/nifti-writer';
import { SHOTS } from '../fixtures/screenshots';

// Screenshots: into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.
const TINY = { epochs: '2', size: '32', depth: '2', baseFilters: '4', batch: '8' };

/** Controls of the page without an accessible name (label, aria-label, aria-labelledby, title or text). */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const named = (el: HTMLElement) => {
      if (el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby') || el.getAttribute('title')?.trim()) return true;
      if ((el as HTMLInputElement).labels?.length) return true;
      if (el.tagName === 'BUTTON' && el.textContent?.trim()) return true;
      return false;
    };
    return Array.from(document.querySelectorAll<HTMLElement>('button, input, select, textarea, canvas[role="img"], progress'))
      .filter((el) => el.offsetParent !== null || el.tagName === 'PROGRESS')
      .filter((el) => !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

describe.skipIf(!HAVE_CHROMIUM)('app polish in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let volumes: string;
  let tiny: string;
  const post = (channel: string, body: unknown) =>
    fetch(`http://127.0.0.1:${server.port}/api/${channel}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string; details?: { fix?: string; file?: string } } }>,
    );

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-polish-');
    await mkdir(join(process.env.TMPDIR ?? '/tmp', 'covseg-e2e-shots'), { recursive: true });
    volumes = join(workspace, 'data', 'volumes');
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'), { recursive: true });
    const n = 48;
    const hu = new Int16Array(n * n * 3).map((_, v) => Math.round(-1000 + ((v % n) / n) * 1400));
    const labels = new Uint8Array(n * n * 3).map((_, v) => ((v % n) > 10 && (v % n) < 20 && Math.floor(v / n) % n > 10 && Math.floor(v / n) % n < 20 ? 1 : 0));
    await writeNifti(join(volumes, 'images', 'case1.nii.gz'), { shape: [n, n, 3], values: hu, datatype: 'int16' });
    await writeNifti(join(volumes, 'labels', 'case1.nii.gz'), { shape: [n, n, 3], values: labels, datatype: 'uint8' });
    // A small PNG set with class maps (ground-glass and consolidation) to train three-class runs on.
    tiny = join(workspace, 'data', 'tiny');
    await writeSyntheticSample(tiny, { count: 24, size: 64, seed: 3 });
    // Upright slices (like a 273x369 crop), which the Lab must not squash into squares.
    const tall = join(workspace, 'data', 'tall');
    for (const dir of ['frames', 'masks']) await mkdir(join(tall, dir), { recursive: true });
    for (const name of ['a', 'b']) {
      await writeGrayPng(join(tall, 'frames', `${name}.png`), 46, 62, (x, y) => (x * 5 + y * 3) % 256);
      await writeGrayPng(join(tall, 'masks', `${name}.png`), 46, 62, (x, y) => (x > 10 && x < 30 && y > 20 && y < 40 ? 255 : 0));
    }
    // Half a dataset: frames/ without masks/.
    await mkdir(join(workspace, 'data', 'half', 'frames'), { recursive: true });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1440, height: 900 }, load: false }));
  }, 180_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('keeps the dataset the user opened while the start-up sample is still being made (newest request wins)', async () => {
    // The sample's answer is held back 4 s, as a first start writing it on a slow disk would.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let answered!: () => void;
    const sampleAnswered = new Promise<void>((r) => (answered = r));
    await page.route('**/api/datasets/openSample', async (route) => {
      const response = await route.fetch({ timeout: 240_000 });
      await held;
      await route.fulfill({ response });
      answered();
    });
    await page.goto(server.url);
    await page.waitForURL((url) => !url.search.includes('token'));
    await page.getByTestId('dataset-opening').waitFor();
    await page.fill('[data-testid="dataset-path"]', volumes);
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.locator('[data-testid="dataset-report"] h3').textContent(), { timeout: 60_000 }).toContain(volumes);
    release();
    await sampleAnswered;
    await page.waitForTimeout(1500);
    expect(await page.locator('[data-testid="dataset-report"] h3').textContent()).toContain(volumes);
    await page.unroute('**/api/datasets/openSample');
  }, 300_000);

  it('a reload brings back the dataset, tab and slice, and the training form points at that dataset', async () => {
    await page.click('[data-tab="browser"]');
    await page.getByTestId('current-slice').waitFor();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('current-slice').textContent()).toMatch(/\(2\/3\)/);
    const slice = (await page.getByTestId('current-slice').textContent())!.split(' ')[0]!;
    expect(new URL(page.url()).searchParams.get('dataset')).toBe(volumes);
    await page.reload();
    await expect.poll(() => page.getByTestId('current-slice').textContent(), { timeout: 60_000 }).toContain(slice);
    expect(await page.locator('[data-tab="browser"]').getAttribute('aria-selected')).toBe('true');
    await page.click('[data-tab="training"]');
    expect(await page.locator('[data-testid="train-form"] input[disabled]').inputValue()).toBe(volumes);
    // Also when the address carries nothing: the last dataset opened comes back (kept in the workspace).
    const fresh = await browser.newContext();
    const other = await fresh.newPage();
    await other.goto(server.url);
    await other.getByTestId('dataset-report').waitFor({ timeout: 60_000 });
    expect(await other.locator('[data-testid="dataset-report"] h3').textContent()).toContain(volumes);
    expect(await other.locator('[data-testid="recent-datasets"] li').count()).toBeGreaterThanOrEqual(1);
    await fresh.close();
  }, 120_000);

  it('explains each way opening a folder can go wrong, and the picker finds the dataset inside a parent folder', async () => {
    await page.click('[data-tab="datasets"]');
    const openPath = async (path: string) => {
      await page.fill('[data-testid="dataset-path"]', path);
      await page.click('form button[type="submit"]');
    };
    await openPath('   ');
    await expect.poll(() => page.getByTestId('dataset-error').textContent()).toMatch(/no folder given/);
    // The report of the dataset still open is not shown under the error as if it were the new one.
    expect(await page.getByTestId('dataset-report').count()).toBe(0);
    await openPath(join(workspace, 'data', 'half'));
    await expect.poll(() => page.getByTestId('dataset-error').textContent()).toMatch(/has frames\/ but no masks\//);
    await openPath(join(workspace, 'data'));
    await expect.poll(() => page.getByTestId('dataset-error').textContent()).toMatch(/not a dataset, but 2 folders inside it are.*open .*tiny|open .*volumes/);
    await openPath(`  ${tiny}  `);
    await expect.poll(() => page.locator('[data-testid="dataset-report"] h3').textContent(), { timeout: 60_000 }).toContain(tiny);
    expect(await page.getByTestId('dataset-error').count()).toBe(0);
    // `~` is the user's home, not a folder named "~" where the server started: outside the allowed roots here.
    const home = await post('datasets/open', { path: '~/covseg-no-such-folder' });
    expect(home.error?.message).toMatch(/outside the folders/);
    expect(home.error?.details?.file).not.toContain(`${process.cwd()}/~`);
    await page.click('[data-testid="browse"]');
    await page.locator('[data-testid="folder-picker"] li button.link').first().click();
    await page.locator('[data-testid="folder-picker"] li[data-folder="volumes"] [data-testid="picker-open"]').click();
    await expect.poll(() => page.locator('[data-testid="dataset-report"] h3').textContent(), { timeout: 60_000 }).toContain(volumes);
    await page.screenshot({ path: join(SHOTS, 'screen-datasets.png') });
  }, 120_000);

  it('starts one run on a double click, refuses an identical second start, and sets the SegFormer learning rate', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', tiny);
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.locator('[data-testid="dataset-report"] h3').textContent(), { timeout: 60_000 }).toContain(tiny);
    await page.click('[data-tab="training"]');
    await page.selectOption('[name="model"]', 'segformer');
    expect(await page.inputValue('[name="lr"]')).toBe('0.00006');
    expect(await page.getByTestId('lr-note').textContent()).toMatch(/6e-5 with AdamW/);
    await page.selectOption('[name="model"]', 'unet');
    expect(await page.inputValue('[name="lr"]')).toBe('0.001');
    await page.selectOption('[name="classes"]', 'ggo-consolidation');
    for (const [name, value] of Object.entries(TINY)) await page.fill(`[data-testid="train-form"] [name="${name}"]`, value);
    const before = ((await post('runs/list', {})).value as unknown[]).length;
    await page.dblclick('[data-testid="train-form"] button[type="submit"]');
    await page.getByTestId('run-progress').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1000);
    const runs = (await post('runs/list', {})).value as { runId: string; state: string }[];
    expect(runs.length).toBe(before + 1);
    // The same request again (another window, a script) is refused while the first trains.
    const again = await post('training/start', { datasetId: tiny, model: 'unet', classes: 'ggo-consolidation', loss: 'ce+dice', epochs: 2, size: 32, depth: 2, baseFilters: 4, batch: 8, lr: 0.001, seed: 1, val: 0.25, test: 0.15, variant: 'b0' });
    expect(again.error?.code).toBe('busy');
    expect(again.error?.message).toContain(runs[0]!.runId);
    await expect.poll(() => page.getByTestId('run-progress').getAttribute('data-state'), { timeout: 240_000 }).toBe('completed');
    await page.screenshot({ path: join(SHOTS, 'screen-training.png') });
  }, 300_000);

  it('tells runs apart: recipe, dataset, model, classes, date, full ids, sorting, filtering, per-class test metrics and files', async () => {
    await page.click('[data-tab="runs"]');
    const row = page.locator('[data-testid="runs-table"] tbody tr[data-state="completed"]').first();
    await row.waitFor();
    const runId = (await row.getAttribute('data-run'))!;
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe(runId);
    expect(cells).toContain('GGO / consolidation');
    expect(cells).toContain('none');
    expect(cells.some((c) => c.includes(tiny))).toBe(true);
    await row.click();
    const detail = page.getByTestId('run-detail');
    await detail.waitFor();
    const classes = await page.locator('[data-testid="class-metrics"] tr[data-class] th').allTextContents();
    expect(classes).toEqual(['ground-glass', 'consolidation']);
    expect(await page.getByTestId('run-dir').textContent()).toBe(join(workspace, 'runs', runId));
    await page.fill('[data-testid="runs-filter"]', 'no-such-run');
    expect(await page.locator('[data-testid="runs-table"] tbody tr').count()).toBe(0);
    await page.fill('[data-testid="runs-filter"]', 'consolidation');
    expect(await page.locator('[data-testid="runs-table"] tbody tr').count()).toBeGreaterThanOrEqual(1);
    await page.fill('[data-testid="runs-filter"]', '');
    await page.click('button[data-sort="runId"]');
    expect(await page.locator('th:has(button[data-sort="runId"])').getAttribute('aria-sort')).toBe('ascending');
    await page.click('[data-testid="open-run-folder"]');
    expect(await page.getByTestId('shown-folder-path').textContent()).toBe(join(workspace, 'runs', runId));
    await page.screenshot({ path: join(SHOTS, 'screen-runs.png') });
  }, 120_000);

  it('names every control, marks the tabs, and keeps chart text at WCAG AA contrast in both themes', async () => {
    for (const scheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.reload();
      await page.click('[data-tab="datasets"]');
      await page.getByTestId('dataset-report').waitFor({ timeout: 60_000 });
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
      // Every tab button is a tab (the app has nine; each added view goes through the same bar).
      expect(await page.locator('[role="tablist"] [role="tab"]').count()).toBe(await page.locator('[data-tab]').count());
      expect(await page.locator('[data-tab]').count()).toBeGreaterThanOrEqual(9);
      expect(await page.locator('[role="tab"][aria-selected="true"]').count()).toBe(1);
      for (const tab of ['datasets', 'browser', 'annotate', 'lab', 'training', 'runs', 'experiments', 'gan', 'gallery']) {
        await page.click(`[data-tab="${tab}"]`);
        await page.waitForTimeout(300);
        expect(await unnamedControls(page), `${tab} (${scheme})`).toEqual([]);
      }
      await page.click('[data-tab="runs"]');
      await page.locator('[data-testid="runs-table"] tbody tr').first().click();
      const curves = page.locator('[data-testid="run-detail"] [data-testid="curves"]');
      await curves.waitFor();
      const colours = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="run-detail"] [data-testid="curves"]')!;
        return { text: canvas.dataset.textColour!, body: getComputedStyle(document.body).color, background: getComputedStyle(document.body).backgroundColor };
      });
      expect(contrast(colours.text, colours.background), `chart text ${colours.text} on ${colours.background}`).toBeGreaterThanOrEqual(4.5);
      expect(contrast(colours.body, colours.background)).toBeGreaterThanOrEqual(4.5);
      // Both sizes looked at; the docs keep dark at 1440x900 and light at 1280x720.
      for (const [w, h] of [[1440, 900], [1280, 720]] as const) {
        await page.setViewportSize({ width: w, height: h });
        const kept = (scheme === 'dark') === (w === 1440);
        await page.screenshot({ path: join(kept ? SHOTS : join(process.env.TMPDIR ?? '/tmp', 'covseg-e2e-shots'), `polish-runs-${scheme}-${w}x${h}.png`) });
      }
      await page.setViewportSize({ width: 1440, height: 900 });
    }
    // The toggle overrides the system's preference.
    await page.click('[data-testid="theme-toggle"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  }, 180_000);

  it('deletes a stopped run after confirmation, and never a run that trains', async () => {
    const runs = (await post('runs/list', {})).value as { runId: string; state: string }[];
    const done = runs.find((r) => r.state === 'completed')!;
    const started = (await post('training/start', { datasetId: tiny, epochs: 200, size: 32, depth: 2, baseFilters: 4, batch: 8, seed: 9 })).value as { runId: string };
    expect((await post('runs/delete', { runId: started.runId })).error?.code).toMatch(/busy|not-found/);
    await post('training/cancel', { runId: started.runId });
    expect((await post('runs/delete', { runId: '..' })).error?.code).toBe('invalid-argument');
    await page.click('[data-tab="runs"]');
    await page.click('button:text-is("Refresh")');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.locator(`tr[data-run="${done.runId}"] [data-testid="delete-run"]`).click();
    expect(existsSync(join(workspace, 'runs', done.runId))).toBe(true);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(`tr[data-run="${done.runId}"] [data-testid="delete-run"]`).click();
    await expect.poll(() => page.locator(`tr[data-run="${done.runId}"]`).count()).toBe(0);
    expect(existsSync(join(workspace, 'runs', done.runId))).toBe(false);
  }, 120_000);

  it('previews augmentations at the slice own size and aspect, several draws at once, and explains a bad schedule', async () => {
    // Back to following the system's scheme (the theme test left an explicit choice).
    if ((await page.getByTestId('theme-toggle').textContent())?.includes('auto') === false) await page.click('[data-testid="theme-toggle"]');
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', join(workspace, 'data', 'tall'));
    await page.click('form button[type="submit"]');
    await expect.poll(() => page.locator('[data-testid="dataset-report"] h3').textContent(), { timeout: 60_000 }).toContain('tall');
    await page.click('[data-tab="lab"]');
    const augmented = page.getByTestId('lab-augmented');
    await expect.poll(() => augmented.getAttribute('data-width'), { timeout: 60_000 }).toBe('46');
    expect(await augmented.getAttribute('data-height')).toBe('62');
    const box = (await augmented.boundingBox())!;
    expect(box.height / box.width).toBeCloseTo(62 / 46, 1);
    await page.getByTestId('lab-draw-2').waitFor();
    await page.fill('[name="schedule-0"]', '30,abc');
    expect(await page.getByTestId('schedule-0-problem').textContent()).toMatch(/whole numbers/);
    expect(await page.getByTestId('run-weathering').isDisabled()).toBe(true);
    await page.fill('[name="schedule-0"]', '30x4');
    await page.click('[data-testid="run-weathering"]');
    await page.getByTestId('weathered').waitFor({ timeout: 60_000 });
    await page.fill('[name="generation"]', '0');
    expect(await page.locator('[data-testid="weathering"] figcaption').first().textContent()).toMatch(/original \(generation 0\)/);
    // Generation 0 is the original image itself, not a black box.
    const lit = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="weathered"]')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i]!;
      return sum;
    });
    expect(lit).toBeGreaterThan(0);
    for (const scheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(SHOTS, `polish-lab-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'screen-lab.png') });
  }, 180_000);
});
