/// <reference lib="dom" />
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment } from '../../src-main/engine/experiments/experiment-file';
import { writeExperimentReport } from '../../src-main/engine/experiments/report/write-report';
import { runExperiment } from '../../src-main/engine/experiments/run-experiment';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { canvasPixelsOfColour, contrast, effectiveBackground } from '../fixtures/contrast';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { SHOTS } from '../fixtures/screenshots';

const BUILT = existsSync(resolve(import.meta.dirname, '../../out/renderer/index.html'));

describe.skipIf(!HAVE_CHROMIUM || !BUILT)('the Experiments view in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  const experimentId = '20260101-000000-classes';

  beforeAll(async () => {
    // Lives for the whole suite (tempDir folders are removed after each test).
    workspace = await e2eWorkspace('covseg-e2e-exp-');
    // A tiny three-class grid (2 recipes x 2 seeds) made in the workspace's experiments folder, as the app would.
    const data = join(workspace, 'data', 'tiny');
    await writeSyntheticSample(data, { count: 16, size: 32, seed: 7 });
    const expDir = join(workspace, 'experiments', experimentId);
    await mkdir(expDir, { recursive: true });
    const file = join(expDir, 'grid.json');
    await writeFile(file, JSON.stringify({ name: 'classes', dataset: data, splitOptions: { val: 0.25, test: 0.25, seed: 1 }, axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['ce+dice'], seeds: [1, 2], classes: ['ggo-consolidation'] }, fixed: { epochs: 2, size: 32, depth: 2, baseFilters: 4, batch: 4, backend: 'wasm' } }));
    const outcome = await runExperiment(await loadExperiment(file), { expDir, parallel: 2, cores: 2 });
    expect(outcome.ran).toBe(4);
    await writeExperimentReport(expDir);
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1400, height: 1250 } }));
  }, 240_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('lists the experiment and shows the paper-style table (mean ± sd, Holm p, per-class columns), the bar chart and a run comparison', async () => {
    await page.click('[data-tab="experiments"]');
    await page.waitForSelector(`[data-experiment="${experimentId}"]`);
    await page.waitForSelector('[data-testid="experiment-table"] tr[data-recipe="fliprot+elastic"]');
    const csv = (await readFile(join(workspace, 'experiments', experimentId, 'results.csv'), 'utf8')).trim().split('\n').map((l) => l.split(','));
    const header = csv[0]!;
    const column = (name: string) => csv.slice(1).map((row) => Number(row[header.indexOf(name)]));
    const originDice = column('dice').filter((_, i) => csv[i + 1]![1] === 'origin');
    const mean = (originDice[0]! + originDice[1]!) / 2;
    const sd = Math.abs(originDice[0]! - originDice[1]!) / Math.SQRT2;
    // The table's origin F1 is the mean ± sd of the two seeds' results.csv values.
    const originCell = page.locator('tr[data-recipe="origin"] td[data-key="dice"]');
    expect((await originCell.textContent())!.trim()).toBe(`${mean.toFixed(4)} ± ${sd.toFixed(4)}`);
    const headers = await page.locator('[data-testid="experiment-table"] th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['ground-glass F1', 'consolidation F1', 'p (Holm)', 'Verdict']));
    const ggoMean = (column('ground_glass_dice')[0]! + column('ground_glass_dice')[1]!) / 2;
    expect(Number(await page.locator('tr[data-recipe="origin"] td[data-key="ground-glass_dice"]').getAttribute('data-mean'))).toBeCloseTo(ggoMean, 10);
    // Exactly one recipe is bold in the F1 column (the higher mean).
    const means = await page.locator('td[data-key="dice"]').evaluateAll((tds) => tds.map((td) => ({ mean: Number(td.getAttribute('data-mean')), best: td.classList.contains('best') })));
    expect(means.filter((m) => m.best)).toEqual([means.reduce((a, b) => (b.mean > a.mean ? b : a))]);
    expect(await page.locator('tr[data-recipe="fliprot+elastic"] td[data-key="p_holm"]').textContent()).toMatch(/^\d|–/);
    const bars = page.locator('[data-testid="experiment-bars"]');
    expect(await bars.getAttribute('data-bars')).toBe('2');
    expect(await bars.getAttribute('data-dots')).toBe('4');
    // Two runs side by side: pick the two seeds of origin; B − A of Dice is their difference.
    await page.selectOption('[data-testid="compare-a"]', 'origin__unet__ce+dice__s1');
    await page.selectOption('[data-testid="compare-b"]', 'origin__unet__ce+dice__s2');
    const diceRow = await page.locator('tr[data-metric="dice"] td').allTextContents();
    expect(Number(diceRow[3])).toBeCloseTo(originDice[1]! - originDice[0]!, 3);
    // Both curves are drawn: the chart canvas carries pixels.
    const painted = await page.locator('[data-testid="compare-curves"]').evaluate((c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0));
    expect(painted).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'screen-experiments.png'), fullPage: true });
    // Both charts draw their legend, ticks and titles in the theme's text colour, at WCAG AA on their background.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(scheme);
      const muted = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--muted').trim());
      for (const chart of ['[data-testid="experiment-bars"]', '[data-testid="compare-curves"]']) {
        await expect.poll(() => page.getAttribute(chart, 'data-text-colour')).toBe(muted);
        const background = await effectiveBackground(page, chart);
        expect(contrast(muted, background), `${chart} text ${muted} on ${background} (${scheme})`).toBeGreaterThanOrEqual(4.5);
        expect(await canvasPixelsOfColour(page, chart, muted, 40), `${chart} legend pixels in ${muted} (${scheme})`).toBeGreaterThan(10);
      }
      await page.locator('[data-testid="experiment-bars"]').screenshot({ path: join(SHOTS, `experiment-bars-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: null });
  }, 60_000);

  it('starts a grid from the form, shows its progress, and cancels it', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', join(workspace, 'data', 'tiny'));
    await page.press('[data-testid="dataset-path"]', 'Enter');
    await page.click('[data-tab="experiments"]');
    await page.click('aside details summary');
    await page.fill('[data-testid="grid-name"]', 'from-ui');
    await page.fill('[data-testid="grid-seeds"]', '1');
    await page.fill('aside form input[type="number"] >> nth=0', '200');
    await page.click('[data-testid="grid-start"]', { timeout: 90_000 });
    await page.waitForSelector('[data-testid="experiment-cancel"]', { timeout: 60_000 });
    expect(await page.locator('aside li.open a').textContent()).toBe('from-ui');
    await page.waitForFunction(() => /[1-9]\d* running/.test(document.querySelector('[data-testid="experiment-status"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    await page.click('[data-testid="experiment-cancel"]');
    await page.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="experiment-status"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await page.locator('[data-testid="experiment-status"]').textContent()).toMatch(/0\/2 cells done, 0 running, 0 failed/);
  }, 150_000);
});
