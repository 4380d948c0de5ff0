/// <reference lib="dom" />
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { checkPairs } from '../../src-main/engine/gan/check-pairs';
import { readPairs } from '../../src-main/engine/gan/pairs-file';
import { train } from '../../src-main/engine/training/trainer';
import { resolveTrainConfig } from '../../src-main/engine/training/train-config';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writePairsFolder, type PairSpec } from '../fixtures/generated-pairs';
import { SHOTS } from '../fixtures/screenshots';

// Screenshots: into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.

describe.skipIf(!HAVE_CHROMIUM)('the GAN gallery in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let pairsDir: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-gallery-e2e-');
    const real = join(workspace, 'data', 'real');
    await writeSyntheticSample(real, { count: 24, size: 64, seed: 7 });
    const ids = (await readdirIds(real)).sort();
    // Two generations of one GAN family; g1-03 is a planted copy of a real slice (memorised).
    const specs: PairSpec[] = [
      ...[0, 1, 2].map((i) => ({ id: `g1-0${i}`, recipe: { kind: 'noisy' as const, source: ids[i * 3]!, amplitude: 40 }, ganDir: 'gans/pix2pix-g1', generation: 1 })),
      { id: 'g1-03', recipe: { kind: 'copy', source: ids[10]! }, ganDir: 'gans/pix2pix-g1', generation: 1 },
      ...[0, 1, 2].map((i) => ({ id: `g2-0${i}`, recipe: { kind: 'noisy' as const, source: ids[13 + i]!, amplitude: 25 }, ganDir: 'gans/pix2pix-g2', generation: 2 })),
      { id: 'g2-03', recipe: { kind: 'shuffled', image: ids[20]!, mask: ids[7]! }, ganDir: 'gans/pix2pix-g2', generation: 2 },
    ];
    pairsDir = join(workspace, 'data', 'pairs');
    await writePairsFolder(real, pairsDir, specs);
    const runDir = join(workspace, 'real-run');
    await train({ runDir, config: resolveTrainConfig({ data: real, epochs: 3, size: 32, batch: 4, lr: 3e-3, backend: 'wasm', model: { name: 'unet', options: { depth: 2, baseFilters: 4 } } }) });
    // TSTR with tiny settings: one small U-Net per GAN, trained on its 4 pairs alone.
    const { report } = await checkPairs(pairsDir, { data: real, model: runDir, backend: 'wasm', tstr: { epochs: 1, size: 32, batch: 4, seed: 1, unet: { depth: 2, baseFilters: 4 } } });
    expect(report.gans.map((g) => g.tstr?.trainPairs)).toEqual([4, 4]);
    for (const g of report.gans) expect(g.tstr!.testSlices).toBeGreaterThan(0);
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [join(workspace, 'data')], viewport: { width: 1400, height: 1700 } }));
  }, 240_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  const decisionOf = (id: string) => page.getAttribute(`[data-pair="${id}"]`, 'data-decision');

  it('accepts and rejects with the keyboard, and the decisions are in pairs.jsonl', async () => {
    await page.click('[data-tab="gallery"]');
    await page.fill('[data-testid="pairs-path"]', pairsDir);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-pair="g2-03"]');
    expect(await page.locator('.card').count()).toBe(8);
    // The first pair is selected; A accepts it and moves on, R rejects the next.
    await page.keyboard.press('a');
    await expect.poll(() => decisionOf('g1-00')).toBe('accepted');
    await page.keyboard.press('r');
    await expect.poll(() => decisionOf('g1-01')).toBe('rejected');
    // ← back to g1-01, U undoes it; → → to g1-03 (the planted copy) and R.
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('u');
    await expect.poll(() => decisionOf('g1-01')).toBe('pending');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('r');
    await expect.poll(() => decisionOf('g1-03')).toBe('rejected');
    await expect.poll(() => page.textContent('[data-testid="gallery-counts"]')).toMatch(/1 accepted · 1 rejected · 6 pending/);

    const onDisk = new Map((await readPairs(pairsDir)).map((p) => [p.id, p.decision]));
    expect(onDisk.get('g1-00')!.state).toBe('accepted');
    expect(onDisk.get('g1-00')!.by).toBeTruthy();
    expect(onDisk.get('g1-01')).toEqual({ state: 'pending' });
    expect(onDisk.get('g1-03')!.state).toBe('rejected');
    expect([...onDisk.values()].filter((d) => d.state === 'pending')).toHaveLength(6);
  });

  it('shows the nearest real image of the planted copy, flags it, and draws mask outlines', async () => {
    await page.click('[data-pair="g1-03"]');
    await page.keyboard.press('n');
    await page.waitForSelector('[data-pair="g1-03"] canvas[title^="nearest training slice"]');
    const card = page.locator('[data-pair="g1-03"]');
    await expect.poll(() => card.textContent()).toMatch(/near-copy/);
    // Outline colours on the generated image: the mask is drawn (grayscale CT has r = g = b).
    await expect
      .poll(() =>
        page.evaluate(() => {
          const canvas = document.querySelector<HTMLCanvasElement>('[data-pair="g1-00"] canvas')!;
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - data[i + 1]!) > 8) n++;
          return n;
        }),
      )
      .toBeGreaterThan(10);
    await page.click('[data-pair="g1-00"]');
    await page.keyboard.press('n');
    await page.waitForSelector('[data-pair="g1-00"] canvas[title^="nearest training slice"]');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'screen-gallery.png'), fullPage: true });
  });

  it('filters by decision and refuses a folder outside the allowed roots', async () => {
    await page.selectOption('[data-testid="gallery-decision-filter"]', 'rejected');
    await expect.poll(() => page.locator('.card').count()).toBe(1);
    await page.selectOption('[data-testid="gallery-decision-filter"]', 'all');
    await page.fill('[data-testid="pairs-path"]', tmpdir());
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('[data-testid="gallery-error"]')).toMatch(/outside the folders the app may read/);
  });
});

async function readdirIds(real: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(join(real, 'frames'))).map((n) => n.replace(/\.png$/, ''));
}
