/// <reference lib="dom" />
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgesFromDisplay, lungSides } from '../../src-shared/lung-sides';
import { IDENTITY_ORIENTATION } from '../../src-shared/orientation';
import { measureSlice } from '../../src-shared/slice-measurements';
import { openDataset } from '../../src-main/engine/datasets/open-dataset';
import { lungMask } from '../../src-main/engine/imaging/lung-mask';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { multiClassSliceMetrics } from '../../src-main/engine/metrics/class-metrics';
import { sliceMetrics } from '../../src-main/engine/metrics/segmentation-metrics';
import { openEngine } from '../../src-main/engine/onnx/segmentation-engine';
import { loadCheckpoint } from '../../src-main/engine/runs/checkpoints';
import { readRun } from '../../src-main/engine/runs/read-run';
import { selectBackend } from '../../src-main/engine/backend/select-backend';
import { predictSliceWithEngine } from '../../src-main/engine/training/predict-mask';
import { train } from '../../src-main/engine/training/trainer';
import { PRESET_RECIPES } from '../../src-main/engine/transforms/recipes';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writeNifti } from '../fixtures/nifti-writer';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../fixtures/real-data';
import { REAL_DATA_SHOTS, SHOTS } from '../fixtures/screenshots';
import { tinyConfig } from '../fixtures/tiny-sample';

// Two tiny runs on the built-in sample: a binary U-Net, and a three-class one with an augmentation recipe.
const RUN_A = 'a-unet-bce';
const RUN_B = 'b-unet-3class';
// The README figure (COVSEG_SCREENSHOTS=docs) wants runs that have learnt something; the suite only needs two runs that differ.
const EPOCHS = process.env.COVSEG_SCREENSHOTS === 'docs' ? 15 : 2;

/** What the engine says about one slice for one run: its class map and Dice figures. */
interface EngineSlice {
  mask: Uint8Array;
  width: number;
  height: number;
  dice: number | null;
  classDice?: (number | null)[];
}

/** Every slice of `data` predicted by the run's best checkpoint, scored against the truth, outside the server. */
async function engineView(runDir: string, data: string): Promise<Map<string, EngineSlice>> {
  await selectBackend();
  const run = await readRun(runDir);
  const { model } = await loadCheckpoint(runDir, 'best');
  const engine = await openEngine('auto', model, run.record.config.model);
  const dataset = await openDataset(data);
  const out = new Map<string, EngineSlice>();
  const classes = run.record.config.classes === 'ggo-consolidation';
  for (const ref of dataset.slices) {
    const slice = await dataset.load(ref);
    const { classMap } = await predictSliceWithEngine(engine, { width: slice.width, height: slice.height, data: slice.image }, run.record.config.size, run.record.config.threshold);
    const entry: EngineSlice = { mask: classMap, width: slice.width, height: slice.height, dice: sliceMetrics(ref.id, classMap, slice.mask, slice.width, slice.height).dice };
    if (classes && slice.labels) entry.classDice = multiClassSliceMetrics(ref.id, classMap, slice.labels, slice.width, slice.height, 3).classes.map((c) => (c.truthPixels > 0 ? c.dice : null));
    out.set(ref.id, entry);
  }
  engine.dispose();
  model.dispose();
  return out;
}

const pane = (page: Page, letter: 'a' | 'b') => page.getByTestId(`compare-pane-${letter}`);
const paneCanvas = (letter: 'a' | 'b') => `[data-testid="compare-pane-${letter}"] .viewer-canvas`;

/** A hash of a canvas' pixels, to see that something on it changed. */
async function canvasHash(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const c = document.querySelector<HTMLCanvasElement>(sel)!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]!) | 0;
    return h;
  }, selector);
}

/**
 * The prediction drawn on a pane's canvas, read back pixel by pixel (fit view, unrotated, truth and
 * diff hidden): each image pixel's centre is sampled and its colour classified over the grey CT.
 * Binary runs: sky blue is lesion. Three-class runs: yellow ground-glass 1, vermillion consolidation 2.
 */
async function drawnMask(page: Page, selector: string, width: number, height: number): Promise<Uint8Array> {
  const values = await page.evaluate(
    ({ sel, width, height }) => {
      const c = document.querySelector<HTMLCanvasElement>(sel)!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const scale = Math.min(c.width / width, c.height / height);
      const x0 = (c.width - width * scale) / 2;
      const y0 = (c.height - height * scale) / 2;
      const out: number[] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const o = (Math.floor(y0 + (y + 0.5) * scale) * c.width + Math.floor(x0 + (x + 0.5) * scale)) * 4;
          const [r, g, b] = [d[o]!, d[o + 1]!, d[o + 2]!];
          if (b - r > 30) out.push(1);
          else if (r - b > 30) out.push(g - b > 64 ? 1 : 2);
          else out.push(0);
        }
      }
      return out;
    },
    { sel: selector, width, height },
  );
  return Uint8Array.from(values);
}

const differing = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
const lesion = (a: Uint8Array) => a.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);

/** `datasets:measure`'s CSV as rows keyed `SLICE|SOURCE` (source `truth` or `prediction`). */
function csvRows(csv: string): Map<string, Record<string, string>> {
  const [head, ...lines] = csv.trim().split('\n');
  const names = head!.split(',');
  return new Map(
    lines.map((line) => {
      const row = Object.fromEntries(line.split(',').map((v, k) => [names[k]!, v]));
      return [`${row.slice}|${row.source}`, row];
    }),
  );
}

/**
 * The same figures for one run's prediction of one slice, measured here with the engine's lung mask and
 * the shared measurement (what `datasets:measure` does), as a CSV row: one API call per run measures
 * every slice, too slow to repeat for each run.
 */
async function measuredHere(data: string, sliceId: string, prediction: EngineSlice, classes: boolean): Promise<Record<string, string>> {
  const dataset = await openDataset(data);
  const slice = await dataset.load(dataset.slices.find((s) => s.id === sliceId)!);
  const lung = lungMask(slice.image, slice.width, slice.height, slice.spacing ? { spacing: slice.spacing } : {}).labels;
  const sides = lungSides(lung, slice.width, slice.height, slice.edges ?? edgesFromDisplay(IDENTITY_ORIENTATION));
  const m = measureSlice({ width: slice.width, height: slice.height, lesion: prediction.mask, classes: classes ? prediction.mask : null, lung, spacing: slice.spacing ?? null, sides });
  const text = (v: number | null) => (v === null ? '' : String(v));
  return { lesion_px: String(m.lesionPixels), lesion_mm2: text(m.lesionAreaMm2), ground_glass_share: text(m.groundGlassShare), consolidation_share: text(m.consolidationShare), lung_involved: text(m.lungInvolved) };
}

/** One column of the measurements panel as shown: its source label and figures (shares in %, null for –). */
async function measureColumn(page: Page, k: number) {
  const text = async (id: string) => (await page.getByTestId(id).nth(k).textContent())!.trim();
  const percent = (t: string) => (t === '–' ? null : Number(t.replace(' %', '')));
  return {
    source: await text('measure-source'),
    lesion: await text('measure-lesion'),
    groundGlass: percent(await text('measure-ground-glass')),
    consolidation: percent(await text('measure-consolidation')),
    lung: percent(await text('lung-involved')),
  };
}

/** What the panel should show for a CSV row: the API's figures, shares to 0.1 % as the panel writes them. */
function expectColumn(shown: Awaited<ReturnType<typeof measureColumn>>, source: string, row: Record<string, string>) {
  expect(shown.source).toBe(source);
  expect(shown.lesion).toBe(row.lesion_mm2 ? `${Number(row.lesion_mm2).toFixed(0)} mm²` : `${row.lesion_px} px`);
  for (const [figure, column] of [
    ['groundGlass', 'ground_glass_share'],
    ['consolidation', 'consolidation_share'],
    ['lung', 'lung_involved'],
  ] as const) {
    const expected = row[column] ? Number(row[column]) * 100 : null;
    if (expected === null) expect(shown[figure], `${source} ${figure}`).toBeNull();
    else expect(Math.abs(shown[figure]! - expected), `${source} ${figure}: ${shown[figure]} % shown, ${expected} % measured`).toBeLessThanOrEqual(0.051);
  }
}

describe.skipIf(!HAVE_CHROMIUM)('compare mode of the slice browser in Chromium', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let sample: string;
  let volumes: string;
  let engineA: Map<string, EngineSlice>;
  let engineB: Map<string, EngineSlice>;
  let splitB: Map<string, string>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const started = Date.now();
    workspace = await e2eWorkspace('covseg-compare-e2e-', { builtInSample: false });
    // The synthetic sample (24 slices, not the app's 120, to keep this quick), written where the app
    // looks for its built-in sample: it opens at start-up, and the runs below are trained on it.
    sample = join(workspace, 'sample');
    await writeSyntheticSample(sample, { count: 24, size: 256, seed: 1 });
    await train({ runDir: join(workspace, 'runs', RUN_A), config: tinyConfig(sample, { epochs: EPOCHS, seed: 1 }) });
    await train({
      runDir: join(workspace, 'runs', RUN_B),
      config: tinyConfig(sample, { epochs: EPOCHS, seed: 2, classes: 'ggo-consolidation', loss: 'ce+dice', recipe: PRESET_RECIPES['fliprot+elastic']! }),
    });
    console.log(`[compare e2e] sample and two runs: ${Date.now() - started} ms`);
    [engineA, engineB] = [await engineView(join(workspace, 'runs', RUN_A), sample), await engineView(join(workspace, 'runs', RUN_B), sample)];
    const { record } = await readRun(join(workspace, 'runs', RUN_B));
    splitB = new Map((['train', 'val', 'test'] as const).flatMap((name) => record.split[name].map((id) => [id, name] as [string, string])));
    // A small CT volume in RAS with one lesion: HU, side markers, and runs trained elsewhere.
    volumes = join(workspace, 'data', 'volumes');
    const n = 48;
    const hu = new Int16Array(n * n * 3).map((_, v) => {
      const i = v % n;
      const j = Math.floor(v / n) % n;
      const lung = ((i - 14) / 9) ** 2 + ((j - 24) / 15) ** 2 < 1 || ((i - 34) / 9) ** 2 + ((j - 24) / 15) ** 2 < 1;
      return lung ? -850 : 40;
    });
    const labels = new Uint8Array(n * n * 3).map((_, v) => (v % n > 10 && v % n < 16 && Math.floor(v / n) % n > 18 && Math.floor(v / n) % n < 28 ? 1 : 0));
    const sform = [
      [0.8, 0, 0, 0],
      [0, 0.8, 0, 0],
      [0, 0, 2.5, 0],
    ];
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'), { recursive: true });
    await writeNifti(join(volumes, 'images', 'case1.nii.gz'), { shape: [n, n, 3], values: hu, datatype: 'int16', sform });
    await writeNifti(join(volumes, 'labels', 'case1.nii.gz'), { shape: [n, n, 3], values: labels, datatype: 'uint8', sform });
    console.log(`[compare e2e] engine views: ${Date.now() - started} ms`);
    ({ server, browser, page } = await openApp({ workspace, dataRoots: HAVE_REAL_DATA ? [join(workspace, 'data'), REAL_DATA_DIR] : [join(workspace, 'data')], viewport: { width: 1440, height: 900 }, beforeLoad: (p) => p.on('pageerror', (error) => pageErrors.push(error.message)) }));
    await page.click('[data-tab="browser"]');
    await page.getByTestId('current-slice').getByText('synth_p001_s01').waitFor({ timeout: 60_000 });
  }, 300_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('shows two runs side by side: the engine’s masks and Dice in each pane, zoom and pan shared, paging moves both', async () => {
    // The slice where the two runs disagree most (both predict something there), and the one after it.
    const ids = [...engineA.keys()];
    const ranked = ids
      .slice(0, -1)
      .filter((id) => lesion(engineA.get(id)!.mask) > 0 && lesion(engineB.get(id)!.mask) > 0)
      .sort((p, q) => differing(engineB.get(q)!.mask.map((v) => (v > 0 ? 1 : 0)), engineA.get(q)!.mask) - differing(engineB.get(p)!.mask.map((v) => (v > 0 ? 1 : 0)), engineA.get(p)!.mask));
    expect(ranked.length, 'the tiny runs predict some lesion on some slice').toBeGreaterThan(0);
    const slice = ranked[0]!;
    const next = ids[ids.indexOf(slice) + 1]!;
    expect(differing(engineB.get(slice)!.mask.map((v) => (v > 0 ? 1 : 0)), engineA.get(slice)!.mask), 'the two runs disagree on this slice').toBeGreaterThan(0);

    await page.keyboard.press('c');
    await pane(page, 'a').waitFor();
    await expect.poll(() => pane(page, 'a').getByTestId('pane-source').locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(2);
    await pane(page, 'a').getByTestId('pane-source').selectOption(`run:${RUN_A}`);
    await pane(page, 'b').getByTestId('pane-source').selectOption(`run:${RUN_B}`);
    await page.fill('[data-testid="go-to"]', slice);
    await page.press('[data-testid="go-to"]', 'Enter');
    await expect.poll(() => page.locator(paneCanvas('a')).getAttribute('data-slice-id')).toBe(slice);
    // Out of the go-to box (keys do not page while typing there).
    await page.locator(paneCanvas('a')).click();
    expect(await page.locator(paneCanvas('b')).getAttribute('data-slice-id')).toBe(slice);

    // Headers: run settings, split in that run, and the engine's Dice for this slice and run.
    expect(await pane(page, 'a').getByTestId('pane-run').textContent()).toMatch(/U-Net · loss bce · no augmentation · lesion/);
    expect(await pane(page, 'b').getByTestId('pane-run').textContent()).toMatch(/U-Net · loss ce\+dice · recipe fliprot\+elastic · 3 classes/);
    const diceA = pane(page, 'a').getByTestId('pane-dice');
    await diceA.waitFor({ timeout: 60_000 });
    await pane(page, 'b').getByTestId('pane-dice').waitFor({ timeout: 60_000 });
    const a = engineA.get(slice)!;
    const b = engineB.get(slice)!;
    expect(Number(await diceA.getAttribute('data-dice'))).toBe(a.dice);
    expect(await diceA.textContent()).toContain(`Dice ${a.dice!.toFixed(3)}`);
    expect(Number(await pane(page, 'b').getByTestId('pane-dice').getAttribute('data-dice'))).toBe(b.dice);
    expect(await pane(page, 'b').getByTestId('pane-class-dice').getAttribute('data-dice')).toBe(b.classDice!.map((d) => d ?? '').join(','));
    expect(await pane(page, 'b').getByTestId('pane-split').textContent()).toBe(splitB.get(slice) ?? 'unseen');
    expect(await pane(page, 'a').getByTestId('pane-split').textContent()).toMatch(/^(train|val|test)$/);

    // The canvases carry exactly the engine's predictions (truth hidden, diff off), and they differ.
    await page.keyboard.press('1');
    await expect.poll(async () => differing(await drawnMask(page, paneCanvas('a'), a.width, a.height), a.mask), { timeout: 10_000 }).toBe(0);
    await expect.poll(async () => differing(await drawnMask(page, paneCanvas('b'), b.width, b.height), b.mask), { timeout: 10_000 }).toBe(0);
    expect(differing(await drawnMask(page, paneCanvas('a'), a.width, a.height), await drawnMask(page, paneCanvas('b'), b.width, b.height))).toBeGreaterThan(0);
    await page.keyboard.press('1');

    // Both panes are the same size, so one zoom and pan puts the same anatomy under the same spot.
    const boxA = (await page.locator(paneCanvas('a')).boundingBox())!;
    const boxB = (await page.locator(paneCanvas('b')).boundingBox())!;
    expect(Math.abs(boxA.width - boxB.width)).toBeLessThanOrEqual(1);
    expect(boxA.height).toBe(boxB.height);
    expect(boxA.y).toBe(boxB.y);
    // Ctrl+wheel over A zooms B too.
    const before = await canvasHash(page, paneCanvas('b'));
    await page.mouse.move(boxA.x + boxA.width * 0.4, boxA.y + boxA.height * 0.45);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(() => canvasHash(page, paneCanvas('b'))).not.toBe(before);
    // The crosshair in B marks the point under the mouse in A: same place in the pane.
    await page.mouse.move(boxA.x + boxA.width * 0.3, boxA.y + boxA.height * 0.6);
    const cross = pane(page, 'b').getByTestId('crosshair');
    await cross.waitFor();
    expect(Math.abs(Number(await cross.getAttribute('data-x')) - boxA.width * 0.3)).toBeLessThan(1.5);
    expect(Math.abs(Number(await cross.getAttribute('data-y')) - boxA.height * 0.6)).toBeLessThan(1.5);
    const probes = await Promise.all(['a', 'b'].map((l) => pane(page, l as 'a' | 'b').getByTestId('probe').textContent()));
    expect(probes[0]!.split(':')[0]).toBe(probes[1]!.split(':')[0]);
    expect(probes[0]).toMatch(/x \d+, y \d+: grey \d+ · truth \S+ · predicted \S+/);
    // Left drag in B pans A.
    const panned = await canvasHash(page, paneCanvas('a'));
    await page.mouse.move(boxB.x + boxB.width / 2, boxB.y + boxB.height / 2);
    await page.mouse.down();
    await page.mouse.move(boxB.x + boxB.width / 2 + 40, boxB.y + boxB.height / 2 + 25, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => canvasHash(page, paneCanvas('a'))).not.toBe(panned);
    await page.mouse.move(boxA.x + boxA.width * 0.5, boxA.y + boxA.height * 0.5);
    expect(Math.abs(Number(await cross.getAttribute('data-x')) - boxA.width * 0.5)).toBeLessThan(1.5);
    await page.keyboard.press('0');

    // Paging: a key moves both panes, and their Dice follow the slice; so does the wheel over B.
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator(paneCanvas('a')).getAttribute('data-slice-id')).toBe(next);
    expect(await page.locator(paneCanvas('b')).getAttribute('data-slice-id')).toBe(next);
    await expect.poll(() => diceA.getAttribute('data-dice'), { timeout: 30_000 }).toBe(String(engineA.get(next)!.dice ?? ''));
    await expect.poll(() => pane(page, 'b').getByTestId('pane-dice').getAttribute('data-dice'), { timeout: 30_000 }).toBe(String(engineB.get(next)!.dice ?? ''));
    await page.mouse.move(boxB.x + boxB.width / 2, boxB.y + boxB.height / 2);
    await page.mouse.wheel(0, -100);
    await expect.poll(() => page.locator(paneCanvas('b')).getAttribute('data-slice-id')).toBe(slice);
    expect(await page.locator(paneCanvas('a')).getAttribute('data-slice-id')).toBe(slice);

    // The ? list names the key; the address keeps the panes, and a reload brings them back.
    await page.keyboard.press('?');
    expect(await page.getByTestId('shortcuts').locator('tr', { hasText: 'compare' }).locator('kbd').textContent()).toBe('c');
    await page.keyboard.press('Escape');
    await expect.poll(() => new URL(page.url()).searchParams.get('compare')).toBe(`run:${RUN_A},run:${RUN_B}`);
    await page.reload();
    await expect.poll(() => page.locator(paneCanvas('a')).getAttribute('data-slice-id'), { timeout: 60_000 }).toBe(slice);
    expect(await pane(page, 'a').getByTestId('pane-source').inputValue()).toBe(`run:${RUN_A}`);
    expect(await pane(page, 'b').getByTestId('pane-source').inputValue()).toBe(`run:${RUN_B}`);
    await pane(page, 'b').getByTestId('pane-dice').waitFor({ timeout: 60_000 });

    // The figure for the README: the truth against the three-class run on a slice holding both classes
    // (the run's best such slice), truth layer off so the run pane shows its prediction alone.
    const both = (e: EngineSlice) => (e.classDice?.every((d) => d !== null) ? 1 : 0);
    const shown = [...engineB.entries()].sort(([, p], [, q]) => both(q) - both(p) || (q.dice ?? 0) - (p.dice ?? 0))[0]![0];
    await pane(page, 'a').getByTestId('pane-source').selectOption('truth');
    await page.fill('[data-testid="go-to"]', shown);
    await page.press('[data-testid="go-to"]', 'Enter');
    await page.locator(paneCanvas('a')).click();
    await page.keyboard.press('1');
    await expect.poll(() => pane(page, 'b').getByTestId('pane-dice').getAttribute('data-dice'), { timeout: 30_000 }).toBe(String(engineB.get(shown)!.dice ?? ''));
    expect(await pane(page, 'a').getByTestId('pane-run').textContent()).toMatch(/ground truth/);
    await page.mouse.move(boxA.x + boxA.width * 0.62, boxA.y + boxA.height * 0.5);
    await page.screenshot({ path: join(SHOTS, 'screen-compare.png') });
    await page.keyboard.press('1');

    // Fluid down to 1280x720: both panes whole, side by side, the same size.
    await page.setViewportSize({ width: 1280, height: 720 });
    await expect.poll(async () => (await page.locator(paneCanvas('b')).boundingBox())!.y + (await page.locator(paneCanvas('b')).boundingBox())!.height).toBeLessThanOrEqual(720);
    const smallA = (await page.locator(paneCanvas('a')).boundingBox())!;
    const smallB = (await page.locator(paneCanvas('b')).boundingBox())!;
    expect(smallB.x).toBeGreaterThanOrEqual(smallA.x + smallA.width);
    expect(smallB.x + smallB.width).toBeLessThanOrEqual(1280);
    expect(Math.min(smallA.width, smallA.height)).toBeGreaterThan(300);
    expect(Math.abs(smallA.width - smallB.width)).toBeLessThanOrEqual(1);
    await page.screenshot({ path: join(SHOTS, 'compare-1280x720.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('compares truth and a run on a NIfTI volume: HU under the cursor in both panes, side markers in both, the engine’s Dice', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', volumes);
    await page.press('[data-testid="dataset-path"]', 'Enter');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(/3 valid of 3 slices/);
    await page.click('[data-tab="browser"]');
    await page.keyboard.press('0');
    await pane(page, 'a').getByTestId('pane-source').selectOption('truth');
    await pane(page, 'b').getByTestId('pane-source').selectOption(`run:${RUN_A}`);
    await expect.poll(() => page.locator(paneCanvas('a')).getAttribute('data-slice-id'), { timeout: 30_000 }).toBe('case1:z000');
    for (const letter of ['a', 'b'] as const) {
      expect(await pane(page, letter).getByTestId('edge-top').textContent()).toBe('A');
      expect(await pane(page, letter).getByTestId('edge-right').textContent()).toBe('R');
    }
    // A run trained on the sample: every slice here is new to it, and the pane says so.
    await pane(page, 'b').getByTestId('pane-dice').waitFor({ timeout: 60_000 });
    expect(await pane(page, 'b').getByTestId('pane-split').textContent()).toBe('unseen');
    expect(await pane(page, 'b').textContent()).toContain('other dataset');
    const engineOnVolume = await engineView(join(workspace, 'runs', RUN_A), volumes);
    expect(await pane(page, 'b').getByTestId('pane-dice').getAttribute('data-dice')).toBe(String(engineOnVolume.get('case1:z000')!.dice ?? ''));
    await page.selectOption('[data-testid="window-preset"]', 'mediastinum');
    const box = (await page.locator(paneCanvas('b')).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => pane(page, 'a').getByTestId('probe').textContent()).toMatch(/: 40 HU · truth none/);
    expect(await pane(page, 'b').getByTestId('probe').textContent()).toMatch(/: 40 HU · truth none · predicted (lesion|none)/);
    await page.keyboard.press('PageDown');
    await expect.poll(() => page.locator(paneCanvas('b')).getAttribute('data-slice-id')).toBe('case1:z002');
    await expect.poll(() => pane(page, 'b').getByTestId('pane-dice').getAttribute('data-dice'), { timeout: 30_000 }).toBe(String(engineOnVolume.get('case1:z002')!.dice ?? ''));
    await page.screenshot({ path: join(SHOTS, 'compare-nifti.png') });
  }, 120_000);

  it.skipIf(!HAVE_REAL_DATA)('compares the truth and a run on the real MedSeg slices (screenshots to a temp folder only)', async () => {
    await page.click('[data-tab="datasets"]');
    await page.fill('[data-testid="dataset-path"]', REAL_DATA_DIR);
    await page.press('[data-testid="dataset-path"]', 'Enter');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(/50 valid of 50 slices/);
    await page.click('[data-tab="browser"]');
    await page.keyboard.press('0');
    await pane(page, 'a').getByTestId('pane-source').selectOption('truth');
    await pane(page, 'b').getByTestId('pane-source').selectOption(`run:${RUN_B}`);
    await pane(page, 'b').getByTestId('pane-dice').waitFor({ timeout: 60_000 });
    await page.keyboard.press('3');
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'compare-real-1440x900.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'compare-real-1280x720.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.keyboard.press('3');
  }, 120_000);
  it('shows the measurements of both panes side by side, labelled with their sources, as the API measures them (issue #16)', async () => {
    const errorsBefore = pageErrors.length;
    await page.click('[data-tab="datasets"]');
    await page.click('[data-testid="open-sample"]');
    await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(/24 valid of 24 slices/);
    await page.click('[data-tab="browser"]');
    const datasetId = new URL(page.url()).searchParams.get('dataset')!;
    const measure = async (runId: string) => {
      const reply = await fetch(`http://127.0.0.1:${server.port}/api/datasets/measure`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: JSON.stringify({ datasetId, runId }) });
      const answer = (await reply.json()) as { ok: boolean; value: string };
      expect(answer.ok).toBe(true);
      return csvRows(answer.value);
    };
    // The API's figures for the truth and run B; run A's measured here the same way (see measuredHere).
    const byB = await measure(RUN_B);
    const byA = async (id: string) => measuredHere(sample, id, engineA.get(id)!, false);
    // A slice where run B's lesion differs from the truth's (so a column showing the wrong source cannot pass).
    const ids = [...engineB.keys()];
    const px = (rows: Map<string, Record<string, string>>, id: string, source: string) => Number(rows.get(`${id}|${source}`)!.lesion_px);
    const predicted = ids.filter((id) => px(byB, id, 'prediction') > 0);
    expect(predicted.length, 'run B predicts lesion on some slice').toBeGreaterThan(0);
    // Slices with truth lesion first, for the figure.
    const score = (id: string) => (px(byB, id, 'truth') > 0 ? 1e9 : 0) + Math.abs(px(byB, id, 'prediction') - px(byB, id, 'truth'));
    const slice = predicted.sort((p, q) => score(q) - score(p))[0]!;
    expect(px(byB, slice, 'prediction')).not.toBe(px(byB, slice, 'truth'));

    // The panel's own run is a third one: the figures must follow the panes, not it.
    await page.selectOption('[data-testid="run-select"]', RUN_A);
    if ((await pane(page, 'a').count()) === 0) await page.getByTestId('compare-toggle').click();
    await pane(page, 'a').waitFor();
    await expect.poll(() => pane(page, 'a').getByTestId('pane-source').locator('option').count(), { timeout: 30_000 }).toBeGreaterThan(2);
    await pane(page, 'a').getByTestId('pane-source').selectOption('truth');
    await pane(page, 'b').getByTestId('pane-source').selectOption(`run:${RUN_B}`);
    await page.fill('[data-testid="go-to"]', slice);
    await page.press('[data-testid="go-to"]', 'Enter');
    await expect.poll(() => page.locator(paneCanvas('b')).getAttribute('data-slice-id')).toBe(slice);
    await page.locator(paneCanvas('a')).click();
    await expect.poll(() => measureColumn(page, 1).then((c) => c.lesion), { timeout: 30_000 }).toBe(`${px(byB, slice, 'prediction')} px`);
    expect(await page.getByTestId('measure-source').count()).toBe(2);
    expectColumn(await measureColumn(page, 0), 'A · Truth', byB.get(`${slice}|truth`)!);
    expectColumn(await measureColumn(page, 1), `B · ${RUN_B}`, byB.get(`${slice}|prediction`)!);
    await expect.poll(() => page.getByTestId('viewer-busy').count(), { timeout: 30_000 }).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'compare-measurements.png') });

    // A pane's source changes: its column follows.
    await pane(page, 'a').getByTestId('pane-source').selectOption(`run:${RUN_A}`);
    await expect.poll(() => measureColumn(page, 0).then((c) => c.source)).toBe(`A · ${RUN_A}`);
    await expect.poll(() => measureColumn(page, 0).then((c) => c.lesion), { timeout: 30_000 }).toBe(`${(await byA(slice)).lesion_px} px`);
    expectColumn(await measureColumn(page, 0), `A · ${RUN_A}`, await byA(slice));
    expectColumn(await measureColumn(page, 1), `B · ${RUN_B}`, byB.get(`${slice}|prediction`)!);

    // The slice changes: both columns follow.
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator(paneCanvas('a')).getAttribute('data-slice-id')).not.toBe(slice);
    const next = (await page.locator(paneCanvas('a')).getAttribute('data-slice-id'))!;
    await expect.poll(async () => [(await measureColumn(page, 0)).lesion, (await measureColumn(page, 1)).lesion], { timeout: 30_000 }).toEqual([`${(await byA(next)).lesion_px} px`, `${px(byB, next, 'prediction')} px`]);
    expectColumn(await measureColumn(page, 0), `A · ${RUN_A}`, await byA(next));
    expectColumn(await measureColumn(page, 1), `B · ${RUN_B}`, byB.get(`${next}|prediction`)!);

    // Outside compare mode the panel is as before: the truth and the panel's run.
    await page.keyboard.press('c');
    await expect.poll(async () => page.getByTestId('measure-source').allTextContents()).toEqual(['truth', 'prediction']);
    await expect.poll(() => measureColumn(page, 1).then((c) => c.lesion), { timeout: 30_000 }).toBe(`${(await byA(next)).lesion_px} px`);
    expectColumn(await measureColumn(page, 0), 'truth', byB.get(`${next}|truth`)!);
    expectColumn(await measureColumn(page, 1), 'prediction', await byA(next));
    expect(pageErrors.slice(errorsBefore)).toEqual([]);
  }, 120_000);
});
