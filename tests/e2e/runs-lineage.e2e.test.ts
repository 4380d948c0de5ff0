/// <reference lib="dom" />
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { readRun } from '../../src-main/engine/runs/read-run';
import { train } from '../../src-main/engine/training/trainer';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { SHOTS } from '../fixtures/screenshots';
import { tinyConfig } from '../fixtures/tiny-sample';

const PARENT = 'base-unet';
const CHILD = 'base-unet-finetuned';

describe.skipIf(!HAVE_CHROMIUM)('the Runs view names a fine-tuned run’s parent, in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-lineage-e2e-', { builtInSample: false });
    // The app's built-in sample, small (it keeps an existing one), and two one-epoch 32-px runs on it:
    // a parent, and a child fine-tuned from it as `covseg train --init-from` does.
    const sample = join(workspace, 'sample');
    await writeSyntheticSample(sample, { count: 12, size: 64, seed: 1 });
    await train({ runDir: join(workspace, 'runs', PARENT), config: tinyConfig(sample, { epochs: 1 }) });
    await train({ runDir: join(workspace, 'runs', CHILD), config: tinyConfig(sample, { epochs: 1, seed: 2, initFrom: join(workspace, 'runs', PARENT) }) });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: [], viewport: { width: 1440, height: 900 } }));
  }, 180_000);

  afterAll(async () => {
    await closeApp({ browser, server }, workspace);
  });

  it('shows "fine-tuned from" with a link to the parent in the row and the run page, and plain text once the parent is gone', async () => {
    const { record } = await readRun(join(workspace, 'runs', CHILD));
    expect(record.parent).toMatchObject({ runId: PARENT, checkpoint: 'best', epoch: 1 });
    await page.click('[data-tab="runs"]');
    const childRow = page.locator(`[data-testid="runs-table"] tr[data-run="${CHILD}"]`);
    const parentRow = page.locator(`[data-testid="runs-table"] tr[data-run="${PARENT}"]`);
    await childRow.waitFor({ timeout: 60_000 });
    // Only the child has a parent.
    expect(await childRow.getByTestId('run-parent').textContent()).toMatch(new RegExp(`fine-tuned from\\s+${PARENT}$`));
    expect(await parentRow.getByTestId('run-parent').count()).toBe(0);
    // The filter finds a parent's children.
    await page.fill('[data-testid="runs-filter"]', `from ${PARENT}`);
    await expect.poll(() => page.locator('[data-testid="runs-table"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')))).toEqual([CHILD]);
    await page.fill('[data-testid="runs-filter"]', '');

    // The run page says it too; the link there selects the parent: its page opens, its row is marked.
    await childRow.getByTestId('show-run').click();
    const detail = page.getByTestId('run-detail');
    await expect.poll(() => detail.getAttribute('data-run')).toBe(CHILD);
    expect(await detail.getByTestId('run-parent').textContent()).toContain(`fine-tuned from ${PARENT}`);
    expect(await detail.textContent()).toContain('(its best checkpoint, epoch 1)');
    await page.screenshot({ path: join(SHOTS, 'runs-parent.png') });
    await detail.getByRole('button', { name: `Show parent run ${PARENT}` }).click();
    await expect.poll(() => detail.getAttribute('data-run')).toBe(PARENT);
    expect(await parentRow.getAttribute('class')).toContain('chosen');
    // The row's link does the same.
    await childRow.getByTestId('show-run').click();
    await expect.poll(() => detail.getAttribute('data-run')).toBe(CHILD);
    await childRow.getByRole('button', { name: `Show parent run ${PARENT}` }).click();
    await expect.poll(() => detail.getAttribute('data-run')).toBe(PARENT);

    // The parent deleted: the child still names it, without a link.
    page.once('dialog', (dialog) => void dialog.accept());
    await parentRow.getByTestId('delete-run').click();
    await expect.poll(() => parentRow.count()).toBe(0);
    const gone = childRow.getByTestId('run-parent');
    await expect.poll(() => gone.getAttribute('data-listed')).toBe('no');
    expect(await gone.textContent()).toMatch(new RegExp(`fine-tuned from\\s+${PARENT} \\(not listed\\)`));
    expect(await gone.locator('button').count()).toBe(0);
    expect(await gone.locator('[title]').getAttribute('title')).toContain(join(workspace, 'runs', PARENT));
  }, 120_000);
});
