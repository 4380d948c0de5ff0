import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { windowHu } from '../../../../src-main/engine/datasets/hu-window';
import { sampleLesionSites } from '../../../../src-main/engine/datasets/synthetic/lesion-sites';
import { samplePatientAnatomy } from '../../../../src-main/engine/datasets/synthetic/patient-anatomy';
import { renderChestSlice } from '../../../../src-main/engine/datasets/synthetic/render-chest';
import { SAMPLE_WINDOW } from '../../../../src-main/engine/datasets/synthetic/write-sample';
import {
  ALL_ORIENTATIONS,
  canonicalOrientation,
  estimateAnatomicalOrientation,
  MIN_CONFIDENCE,
  orientationShowing,
  voteOrientation,
  type AnatomicalOrientation,
} from '../../../../src-main/engine/imaging/anatomical-orientation';
import { readGray } from '../../../../src-main/engine/imaging/png-io';
import { resizeGray } from '../../../../src-main/engine/imaging/resize';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { RADIOLOGICAL_EDGES } from '../../../../src-shared/lung-sides';
import { formatOrientation, orientPixels, parseOrientation } from '../../../../src-shared/orientation';
import { HAVE_REAL_DATA, REAL_DATA_DIR } from '../../../fixtures/real-data';

const SIZE = 128;

/** Upright synthetic slices (radiological: spine at the bottom, heart on the image's right), windowed as the sample's frames. */
function uprightSlices(): { name: string; image: Uint8Array }[] {
  const root = createRandom(11);
  const slices = [];
  for (let p = 0; p < 3; p++) {
    const random = root.fork(`p${p}`);
    const anatomy = samplePatientAnatomy(random.fork('anatomy'));
    const sites = sampleLesionSites(random.fork('lesions'), p === 0);
    for (const t of [0.4, 0.8]) {
      const slice = renderChestSlice(anatomy, sites, t, SIZE, random.fork(`t${t}`));
      slices.push({ name: `patient ${p} t ${t}`, image: Uint8Array.from(slice.hu, (v) => windowHu(v, SAMPLE_WINDOW)) });
    }
  }
  return slices;
}

describe('anatomical orientation of an axial CT slice', () => {
  it('lists the 8 distinct orientations once and finds the one showing given edges', () => {
    expect(new Set(ALL_ORIENTATIONS.map(formatOrientation)).size).toBe(8);
    expect(orientationShowing(RADIOLOGICAL_EDGES)).toEqual({ rotate: 0, flipH: false, flipV: false });
    // Stored with the patient's left at the bottom and posterior on the right: a transpose.
    expect(formatOrientation(orientationShowing({ top: 'R', bottom: 'L', left: 'A', right: 'P' })!)).toBe('rot90+flipH');
    expect(formatOrientation(canonicalOrientation(parseOrientation('rot270+flipV')!))).toBe('rot90+flipH');
    expect(formatOrientation(canonicalOrientation(parseOrientation('flipH+flipV')!))).toBe('rot180');
  });

  it('recovers each of the 8 ways the synthetic slices can be stored, and is never wrong', () => {
    let recovered = 0;
    const slices = uprightSlices();
    for (const { name, image } of slices) {
      let right = 0;
      for (const stored of ALL_ORIENTATIONS) {
        const turned = orientPixels(image, SIZE, SIZE, stored);
        const estimate = estimateAnatomicalOrientation(turned.data, turned.width, turned.height);
        // Abstaining is allowed (a small heart high in the chest); a wrong answer is not.
        if (!estimate.orientation) continue;
        expect(estimate.confidence).toBeGreaterThanOrEqual(MIN_CONFIDENCE);
        // The suggestion shows the stored picture exactly as the upright one.
        const shown = orientPixels(turned.data, turned.width, turned.height, estimate.orientation);
        expect(Buffer.from(shown.data).equals(Buffer.from(image)), `${name} stored ${formatOrientation(stored)}: suggested ${formatOrientation(estimate.orientation)}`).toBe(true);
        right++;
      }
      if (right === 8) recovered++;
    }
    expect(recovered).toBeGreaterThanOrEqual(slices.length - 1);
  });

  it('abstains, saying why, when the cues are missing', () => {
    const { image } = uprightSlices()[3]!;
    // A window that leaves soft tissue white hides the spine.
    const saturated = Uint8Array.from(image, (v) => (v > 150 ? 255 : v));
    const blind = estimateAnatomicalOrientation(saturated, SIZE, SIZE);
    expect(blind.orientation).toBeUndefined();
    expect(blind.reason).toMatch(/bone/);
    // No lungs at all.
    expect(estimateAnatomicalOrientation(new Uint8Array(SIZE * SIZE).fill(200), SIZE, SIZE)).toMatchObject({ confidence: 0, reason: expect.stringMatching(/lungs/) });
    // The bone between the lungs removed (set to soft tissue): the spine cannot tell posterior.
    const tissue = image[(SIZE / 2) * SIZE + SIZE / 2]!;
    const boneless = Uint8Array.from(image, (v) => (v > 215 ? tissue : v));
    expect(estimateAnatomicalOrientation(boneless, SIZE, SIZE).orientation).toBeUndefined();
  });

  it('votes: a clear majority decides, a split or too few slices do not', () => {
    const say = (text: string): AnatomicalOrientation => ({ orientation: parseOrientation(text)!, confidence: 1, posterior: { confidence: 1 }, left: { confidence: 1 } });
    const none: AnatomicalOrientation = { confidence: 0, posterior: { confidence: 0 }, left: { confidence: 0 }, reason: 'x' };
    const vote = voteOrientation([say('rot90+flipH'), say('rot90+flipH'), say('rot90+flipH'), say('rot90'), none]);
    expect(vote).toEqual({ orientation: parseOrientation('rot90+flipH'), votes: [{ orientation: 'rot90+flipH', slices: 3 }, { orientation: 'rot90', slices: 1 }], sampled: 5, abstained: 1 });
    expect(voteOrientation([say('rot90'), say('rot90'), say('rot90'), say('rot270'), say('rot270')]).orientation).toBeUndefined();
    expect(voteOrientation([say('rot90'), say('rot90'), none]).orientation).toBeUndefined();
  });

  it.skipIf(!HAVE_REAL_DATA)('reads one orientation from the real MedSeg slices: rot90+flipH (50 slices vote; printed)', async () => {
    const frames = join(REAL_DATA_DIR, 'frames');
    const estimates: AnatomicalOrientation[] = [];
    for (const name of readdirSync(frames).sort()) {
      // Scaled to at most 192 px (as a thumbnail): the answer is the same and the test 3x faster.
      const full = await readGray(join(frames, name));
      const k = Math.min(1, 192 / Math.max(full.width, full.height));
      const gray = await resizeGray(full, Math.round(full.width * k), Math.round(full.height * k), 'bilinear');
      estimates.push(estimateAnatomicalOrientation(gray.data, gray.width, gray.height));
    }
    const vote = voteOrientation(estimates);
    console.log(`[anatomical orientation] MedSeg slices: ${vote.votes.map((v) => `${v.orientation} ${v.slices}`).join(', ')}, ${vote.abstained} abstained of ${vote.sampled}`);
    expect(vote.sampled).toBe(50);
    expect(formatOrientation(vote.orientation!)).toBe('rot90+flipH');
    expect(vote.votes[0]!.slices).toBeGreaterThanOrEqual(25);
  });
});
