/// <reference lib="dom" />
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src-main/engine/concurrency/process-alive';
import { openDataset } from '../../src-main/engine/datasets/open-dataset';
import { scanDataset } from '../../src-main/engine/datasets/scan-dataset';
import { splitDataset, writeSplit } from '../../src-main/engine/datasets/split-dataset';
import { readGanRecord } from '../../src-main/engine/gan/gan-record';
import { serve } from '../../src-main/server';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';

// Screenshots into docs/images with COVSEG_SCREENSHOTS=docs, else a temp folder.

describe.skipIf(!HAVE_CHROMIUM)('the GAN tab: split picker, and a training followed again after covseg serve restarts', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let pid: number | undefined;

  const startServer = async () => {
    server = await serve({ host: '127.0.0.1', port: 0, dataRoots: [], workspace });
    await page.goto(server.url);
    await page.waitForURL((url) => !url.search.includes('token'));
  };
  const points = () => page.evaluate(() => Number(document.querySelector('[data-testid="gan-losses"]')?.getAttribute('data-points') ?? 0));

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-gan-restart-e2e-');
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [], viewport: { width: 1300, height: 1000 } }));
  }, 180_000);

  afterAll(async () => {
    if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
    await closeApp({ browser, server }, workspace);
  });

  it('trains on the chosen split file, and after a restart the tab shows it running with its losses and cancels it', async () => {
    await page.click('[data-tab="gan"]');
    // The app opens the built-in sample on start; the form is ready once it is open.
    await page.waitForSelector('[data-testid="gan-form"] button[type="submit"]:not([disabled])', { timeout: 180_000 });
    // A split made outside the tab (as `covseg split` would, into WORKSPACE/splits/): offered once the picker is focused.
    const sample = await openDataset(join(workspace, 'sample'));
    const scan = await scanDataset(sample);
    const splitFile = join(workspace, 'splits', 'sample-seed5.json');
    await writeSplit(splitFile, splitDataset(scan.summaries, { root: sample.root, format: sample.format, contentHash: scan.contentHash }, { val: 0.25, test: 0.15, seed: 5 }));
    await writeFile(join(workspace, 'splits', 'not-a-split.json'), '{"hello": 1}');
    await page.focus('[data-testid="gan-split"]');
    await page.waitForSelector(`[data-testid="gan-split"] option[value="${splitFile}"]`, { state: 'attached' });
    // Only split files of this dataset are offered: the stray JSON is not.
    expect(await page.locator('[data-testid="gan-split"] option').count()).toBe(3);
    await page.selectOption('[data-testid="gan-split"]', splitFile);
    const sha256 = createHash('sha256').update(await readFile(splitFile)).digest('hex');
    expect(await page.textContent('[data-testid="gan-split-info"]')).toContain(sha256.slice(0, 12));
    expect(await page.isDisabled('[data-testid="gan-form"] [name="val"]')).toBe(true);

    // "Another split file…" with a path the app may not read: a clear error, nothing started.
    await page.selectOption('[data-testid="gan-split"]', 'other');
    await page.fill('[data-testid="gan-form"] [name="splitPath"]', '/etc/hostname');
    await page.click('[data-testid="gan-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="gan-error"]');
    expect(await page.textContent('[data-testid="gan-error"]')).toMatch(/outside the folders the app may read/);
    expect(existsSync(join(workspace, 'gans'))).toBe(false);

    await page.selectOption('[data-testid="gan-split"]', splitFile);
    for (const [name, value] of Object.entries({ epochs: '300', size: '32', batch: '8', filters: '4' })) await page.fill(`[data-testid="gan-form"] [name="${name}"]`, value);
    await page.click('[data-testid="gan-form"] button[type="submit"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="gan-losses"]')?.getAttribute('data-points') ?? 0) >= 2, undefined, { timeout: 180_000 });
    const ganId = (await page.textContent('[data-testid="gan-live"] h3'))!.trim().split(' ')[0]!;
    const record = await readGanRecord(join(workspace, 'gans', ganId));
    expect(record.split).toMatchObject({ file: splitFile, sha256 });
    pid = (JSON.parse(await readFile(join(workspace, 'jobs', 'gan-jobs.json'), 'utf8')) as { pid: number }[])[0]!.pid;

    // covseg serve restarts; the training goes on and the new server follows it.
    await server.close();
    expect(processAlive(pid)).toBe(true);
    await startServer();
    await page.click('[data-tab="gan"]');
    await page.waitForSelector('[data-testid="gan-live"][data-state="running"]', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="gan-live"] h3')).toContain(ganId);
    // The curve so far is drawn at once, and it keeps growing.
    const before = await points();
    expect(before).toBeGreaterThanOrEqual(2);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="gan-losses"]')?.getAttribute('data-points') ?? 0) > n, before, { timeout: 120_000 });
    expect(await page.textContent('[data-testid="gan-list"] tbody')).toContain(`sample-seed5.json (${sha256.slice(0, 12)}`);
    // The app has opened its sample again by now (for the screenshot's dataset field).
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('[data-testid="gan-form"] input[disabled]')?.value !== 'open a dataset first', undefined, { timeout: 120_000 });
    await writeFile(join(SHOTS, 'gan-after-restart.png'), await page.screenshot({ fullPage: true }));

    await page.click('[data-testid="gan-cancel"]');
    await page.waitForSelector('[data-testid="gan-live"][data-state="cancelled"]', { timeout: 120_000 });
    expect(processAlive(pid)).toBe(false);
    expect((await readGanRecord(join(workspace, 'gans', ganId))).split.sha256).toBe(sha256);
  }, 600_000);
});
