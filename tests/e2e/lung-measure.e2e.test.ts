/// <reference lib="dom" />
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgesFromDisplay, lungSides } from '../../src-shared/lung-sides';
import { measureSlice, type LungCount } from '../../src-shared/slice-measurements';
import { openDataset } from '../../src-main/engine/datasets/open-dataset';
import { sampleLesionSites } from '../../src-main/engine/datasets/synthetic/lesion-sites';
import { samplePatientAnatomy } from '../../src-main/engine/datasets/synthetic/patient-anatomy';
import { renderChestSlice } from '../../src-main/engine/datasets/synthetic/render-chest';
import { lungMask } from '../../src-main/engine/imaging/lung-mask';
import { createRandom } from '../../src-main/engine/random/seeded-random';
import { closeApp, e2eWorkspace, openApp, type Served } from '../fixtures/app-in-browser';
import { HAVE_CHROMIUM } from '../fixtures/browser';
import { writeNifti } from '../fixtures/nifti-writer';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../fixtures/real-data';
import { REAL_DATA_SHOTS, SHOTS } from '../fixtures/screenshots';

const SIZE = 128;
const DEPTH = 3;
/** 2.8 mm pixels make the synthetic body about 31 cm wide, as an adult chest; 5 mm slices. */
const SFORM = [
  [-2.8, 0, 0, 180],
  [0, 2.8, 0, -180],
  [0, 0, 5, 0],
];

/** The panel's way of writing a share of a lung. */
const pct = (l: LungCount | null) => (l && l.lungPixels > 0 ? `${((100 * l.lesionPixels) / l.lungPixels).toFixed(1)} %` : '–');

async function openFolder(page: Page, path: string, slices: number): Promise<void> {
  await page.click('[data-tab="datasets"]');
  await page.fill('[data-testid="dataset-path"]', path);
  await page.press('[data-testid="dataset-path"]', 'Enter');
  await expect.poll(() => page.getByTestId('slice-count').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`${slices} valid of ${slices} slices`));
  await page.click('[data-tab="browser"]');
}

const cells = async (page: Page) => ({
  lesion: (await page.getByTestId('measurements').locator('tr').nth(1).locator('td').nth(1).textContent())?.trim(),
  right: (await page.getByTestId('right-lung-involved').first().textContent())?.trim(),
  left: (await page.getByTestId('left-lung-involved').first().textContent())?.trim(),
});

describe.skipIf(!HAVE_CHROMIUM)('lung measurements in Chromium against covseg serve', () => {
  let server: Served;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let volumes: string;

  beforeAll(async () => {
    workspace = await e2eWorkspace('covseg-e2e-lungs-');
    // A synthetic NIfTI study: slices of one synthetic patient in HU, its lesion classes as the label volume.
    volumes = join(workspace, 'data', 'volumes');
    await mkdir(join(volumes, 'images'), { recursive: true });
    await mkdir(join(volumes, 'labels'));
    const random = createRandom(11);
    const anatomy = samplePatientAnatomy(random.fork('anatomy'));
    const sites = sampleLesionSites(random.fork('lesions'), false);
    const plane = SIZE * SIZE;
    const hu = new Float32Array(plane * DEPTH);
    const labels = new Uint8Array(plane * DEPTH);
    for (let k = 0; k < DEPTH; k++) {
      const slice = renderChestSlice(anatomy, sites, 0.3 + 0.2 * k, SIZE, random.fork(`s${k}`));
      // Row 0 of a shown slice is the highest j.
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          hu[k * plane + (SIZE - 1 - y) * SIZE + x] = slice.hu[y * SIZE + x]!;
          labels[k * plane + (SIZE - 1 - y) * SIZE + x] = slice.labels[y * SIZE + x]!;
        }
      }
    }
    await writeNifti(join(volumes, 'images', 'patient11.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values: hu, datatype: 'float32', sform: SFORM });
    await writeNifti(join(volumes, 'labels', 'patient11.nii.gz'), { shape: [SIZE, SIZE, DEPTH], values: labels, datatype: 'uint8', sform: SFORM });
    ({ server, browser, page } = await openApp({ workspace, dataRoots: HAVE_REAL_DATA ? [join(workspace, 'data'), REAL_DATA_DIR] : [join(workspace, 'data')], viewport: { width: 1440, height: 900 } }));
  }, 120_000);

  afterAll(() => closeApp({ browser, server }, workspace));

  it('measures a NIfTI slice in mm² with the patient\'s right and left lung from the affine, whatever the display', async () => {
    await openFolder(page, volumes, DEPTH);
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe('patient11:z000');
    // The engine's own figures for this slice: the panel must show the same.
    const dataset = await openDataset(volumes);
    const slice = await dataset.load(dataset.slices[0]!);
    const lung = lungMask(slice.image, slice.width, slice.height, { spacing: slice.spacing! }).labels;
    const sides = lungSides(lung, slice.width, slice.height, slice.edges!);
    // Radiological affine (i toward the patient's left): the image-left lung is the patient's right.
    expect(sides).toEqual({ right: 1, left: 2 });
    const m = measureSlice({ width: slice.width, height: slice.height, lesion: slice.mask, classes: slice.labels ?? null, lung, spacing: slice.spacing!, sides });
    expect(m.lesionPixels).toBeGreaterThan(0);
    const expected = { lesion: `${m.lesionAreaMm2!.toFixed(0)} mm²`, right: pct(m.rightLung), left: pct(m.leftLung) };
    expect(expected.right === '–' || expected.left === '–').toBe(false);
    await expect.poll(() => cells(page), { timeout: 30_000 }).toEqual(expected);
    await page.keyboard.press('4');
    await page.screenshot({ path: join(SHOTS, 'measure-nifti-lungs.png') });
    // Flipping the picture does not move the patient: a volume's sides follow its affine.
    await page.keyboard.press('h');
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('flipH');
    expect(await cells(page)).toEqual(expected);
    await page.keyboard.press('h');
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('none');
    await page.keyboard.press('4');
  }, 120_000);

  it.skipIf(!HAVE_REAL_DATA)('names a real PNG slice\'s lungs by the orientation it is shown in, and swaps them when flipped', async () => {
    await openFolder(page, REAL_DATA_DIR, 50);
    await expect.poll(() => page.locator('.viewer-canvas').getAttribute('data-slice-id')).toBe('medseg_tr000');
    // As stored the lungs lie above each other: the panel says so instead of guessing.
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('none');
    await page.getByTestId('sides-unknown').waitFor();
    expect((await cells(page)).right).toBe('–');
    // The engine's figures for the slice turned a quarter clockwise.
    const { data, info } = await sharp(join(REAL_DATA_DIR, 'frames', 'medseg_tr000.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
    const mask = await sharp(join(REAL_DATA_DIR, 'masks', 'medseg_tr000.png')).greyscale().raw().toBuffer();
    const lung = lungMask(data, info.width, info.height).labels;
    const expectedFor = (o: { rotate: 0 | 90 | 180 | 270; flipH: boolean; flipV: boolean }) => {
      const m = measureSlice({ width: info.width, height: info.height, lesion: Uint8Array.from(mask, (v) => (v > 127 ? 1 : 0)), lung, sides: lungSides(lung, info.width, info.height, edgesFromDisplay(o)) });
      return { right: pct(m.rightLung), left: pct(m.leftLung) };
    };
    const turned = expectedFor({ rotate: 90, flipH: false, flipV: false });
    expect(turned.right).not.toBe('–');
    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('rot90');
    await expect.poll(async () => ({ right: (await cells(page)).right, left: (await cells(page)).left })).toEqual(turned);
    await page.keyboard.press('4');
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'measure-real-rot90.png') });
    // Flipped left/right, the patient's right is now the other lung.
    await page.keyboard.press('h');
    await expect.poll(() => page.getByTestId('orientation').textContent()).toBe('rot90+flipH');
    await expect.poll(async () => ({ right: (await cells(page)).right, left: (await cells(page)).left })).toEqual({ right: turned.left, left: turned.right });
    await page.screenshot({ path: join(REAL_DATA_SHOTS, 'measure-real-rot90-flipH.png') });
  }, 120_000);
});
