import { describe, expect, it } from 'vitest';
import { figureLayout, type Box } from '../../scripts/gan-figure-layout';

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (box: Box, width: number, height: number) => box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;

describe('figureLayout (the README GAN figure)', () => {
  it('puts one row per source (real + 4 GANs), each with a label, its tiles and captions, inside the canvas and apart', () => {
    const layout = figureLayout({ rows: 5, columns: 4, tile: 128, captionLines: 2, headerLines: 4 });
    expect(layout.rows).toHaveLength(5);
    const boxes = [layout.header, ...layout.rows.flatMap((r) => [r.label, ...r.tiles, ...r.captions])];
    expect(boxes).toHaveLength(1 + 5 * 9);
    for (const box of boxes) expect(inside(box, layout.width, layout.height)).toBe(true);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i]!, boxes[j]!), `boxes ${i} and ${j}`).toBe(false);
    // Rows go down the page, tiles of a row left to right, each caption under its tile.
    for (const [r, row] of layout.rows.entries()) {
      if (r > 0) expect(row.tiles[0]!.y).toBeGreaterThan(layout.rows[r - 1]!.captions[0]!.y);
      row.tiles.forEach((tile, c) => {
        expect(row.captions[c]!.y).toBeGreaterThanOrEqual(tile.y + tile.height);
        if (c > 0) expect(tile.x).toBeGreaterThan(row.tiles[c - 1]!.x + 128);
      });
    }
  });
});
