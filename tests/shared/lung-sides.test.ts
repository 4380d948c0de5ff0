import { describe, expect, it } from 'vitest';
import { edgesFromDisplay, lungLabelForSide, lungSides, RADIOLOGICAL_EDGES } from '../../src-shared/lung-sides';
import { orientEdges, orientPixels, type Orientation } from '../../src-shared/orientation';

const ALL: Orientation[] = [0, 90, 180, 270].flatMap((rotate) =>
  [false, true].flatMap((flipH) => [false, true].map((flipV) => ({ rotate: rotate as Orientation['rotate'], flipH, flipV }))),
);

/** A 30 x 20 lung map: lung 1 a block on the image's left, lung 2 a smaller block on its right. */
function sideBySide(): Uint8Array {
  const map = new Uint8Array(30 * 20);
  for (let y = 4; y < 16; y++) {
    for (let x = 3; x < 12; x++) map[y * 30 + x] = 1;
    for (let x = 19; x < 26; x++) map[y * 30 + x] = 2;
  }
  return map;
}

/** Which label's centroid lies on the left of a picture. */
function leftmostLabel(map: Uint8Array, width: number, height: number): number {
  const sx = [0, 0, 0];
  const n = [0, 0, 0];
  for (let i = 0; i < width * height; i++) {
    sx[map[i]!]! += i % width;
    n[map[i]!]!++;
  }
  return sx[1]! / n[1]! < sx[2]! / n[2]! ? 1 : 2;
}

describe('patient sides of the computed lungs', () => {
  it('takes a PNG slice as shown to be radiological: the edges each orientation implies land on R left, L right, A top', () => {
    expect(edgesFromDisplay({ rotate: 0, flipH: false, flipV: false })).toEqual(RADIOLOGICAL_EDGES);
    for (const o of ALL) expect(orientEdges(edgesFromDisplay(o), o), JSON.stringify(o)).toEqual(RADIOLOGICAL_EDGES);
  });

  it('names the lung shown on the screen\'s left the patient\'s right, whatever the orientation', () => {
    const map = sideBySide();
    for (const o of ALL) {
      const shown = orientPixels(map, 30, 20, o);
      const sides = lungSides(map, 30, 20, edgesFromDisplay(o));
      if (o.rotate === 90 || o.rotate === 270) {
        // Turned by a quarter, the lungs lie above each other: no side can be told.
        expect(sides, JSON.stringify(o)).toEqual({ right: null, left: null });
        continue;
      }
      const onScreenLeft = leftmostLabel(shown.data, shown.width, shown.height);
      expect(sides.right, JSON.stringify(o)).toBe(onScreenLeft);
      expect(sides.left, JSON.stringify(o)).toBe(3 - onScreenLeft);
    }
    // Flipping the picture swaps the sides.
    expect(lungSides(map, 30, 20, edgesFromDisplay({ rotate: 0, flipH: false, flipV: false }))).toEqual({ right: 1, left: 2 });
    expect(lungSides(map, 30, 20, edgesFromDisplay({ rotate: 0, flipH: true, flipV: false }))).toEqual({ right: 2, left: 1 });
  });

  it('follows a volume\'s edge labels, on any axis, and places a single lung by the half it lies in', () => {
    const map = sideBySide();
    expect(lungSides(map, 30, 20, { top: 'A', bottom: 'P', left: 'R', right: 'L' })).toEqual({ right: 1, left: 2 });
    expect(lungSides(map, 30, 20, { top: 'A', bottom: 'P', left: 'L', right: 'R' })).toEqual({ right: 2, left: 1 });
    // Right-left along the rows: lungs side by side along x cannot be told apart.
    expect(lungSides(map, 30, 20, { top: 'R', bottom: 'L', left: 'A', right: 'P' })).toEqual({ right: null, left: null });
    // No R/L edge at all (a sagittal picture): unknown.
    expect(lungSides(map, 30, 20, { top: 'S', bottom: 'I', left: 'A', right: 'P' })).toEqual({ right: null, left: null });
    const single = map.map((v) => (v === 2 ? 2 : 0));
    expect(lungSides(single, 30, 20, RADIOLOGICAL_EDGES)).toEqual({ right: null, left: 2 });
    expect(lungSides(new Uint8Array(600), 30, 20, RADIOLOGICAL_EDGES)).toEqual({ right: null, left: null });
  });
});

describe('lungLabelForSide', () => {
  it('paints the label the slice already gives that side, in every orientation', () => {
    for (const o of ALL) {
      const edges = edgesFromDisplay(o);
      const sides = lungSides(sideBySide(), 30, 20, edges);
      if (!sides.right) continue;
      expect(lungLabelForSide('right', sideBySide(), 30, 20, edges)).toBe(sides.right);
      expect(lungLabelForSide('left', sideBySide(), 30, 20, edges)).toBe(sides.left);
    }
  });

  it('without lungs, takes the label a lung on that side would have (1 on the image left or top, 2 on the right or bottom)', () => {
    const empty = new Uint8Array(600);
    // Radiological: the patient's right on the image's left, so lung 1.
    expect(lungLabelForSide('right', empty, 30, 20, RADIOLOGICAL_EDGES)).toBe(1);
    expect(lungLabelForSide('left', empty, 30, 20, RADIOLOGICAL_EDGES)).toBe(2);
    expect(lungLabelForSide('right', empty, 30, 20, { top: 'A', bottom: 'P', left: 'L', right: 'R' })).toBe(2);
    // One lung known: the other side takes the other label.
    const single = sideBySide().map((v) => (v === 2 ? 2 : 0));
    expect(lungLabelForSide('right', single, 30, 20, RADIOLOGICAL_EDGES)).toBe(1);
    expect(lungLabelForSide('right', empty, 30, 20, { top: '', bottom: '', left: '', right: '' })).toBeNull();
  });
});
