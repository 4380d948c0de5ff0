// Where each part of the GAN pairs figure goes (scripts/gan-sample-figure.ts): pure geometry, so a
// test can check that every row and tile lands inside the canvas without overlapping another.

export interface FigureLayoutOptions {
  /** Rows of pairs (real, then one per GAN), each with its label panel at the left. */
  rows: number;
  /** Pairs per row. */
  columns: number;
  /** Displayed tile width and height, px. */
  tile: number;
  /** Lines of text under each tile (its quality figures). */
  captionLines: number;
  /** Lines of text above the rows (title, settings). */
  headerLines: number;
  lineHeight?: number;
  labelWidth?: number;
  gap?: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FigureLayout {
  width: number;
  height: number;
  header: Box;
  rows: { label: Box; tiles: Box[]; captions: Box[] }[];
}

export function figureLayout(options: FigureLayoutOptions): FigureLayout {
  const lineHeight = options.lineHeight ?? 15;
  const labelWidth = options.labelWidth ?? 230;
  const gap = options.gap ?? 12;
  const header: Box = { x: gap, y: gap, width: 0, height: options.headerLines * lineHeight };
  const captionHeight = options.captionLines * lineHeight;
  const rowHeight = options.tile + 4 + captionHeight;
  const width = gap + labelWidth + options.columns * (options.tile + gap);
  header.width = width - 2 * gap;
  const top = header.y + header.height + gap;
  const rows = Array.from({ length: options.rows }, (_, r) => {
    const y = top + r * (rowHeight + gap);
    const tiles = Array.from({ length: options.columns }, (_, c) => ({ x: gap + labelWidth + c * (options.tile + gap), y, width: options.tile, height: options.tile }));
    return {
      label: { x: gap, y, width: labelWidth - gap, height: rowHeight },
      tiles,
      captions: tiles.map((t) => ({ x: t.x, y: t.y + t.height + 4, width: t.width, height: captionHeight })),
    };
  });
  return { width, height: top + options.rows * (rowHeight + gap), header, rows };
}
