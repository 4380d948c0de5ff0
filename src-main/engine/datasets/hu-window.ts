/** A CT display window in Hounsfield units: `level` is the centre, `width` the range shown. */
export interface HuWindow {
  level: number;
  width: number;
}

/** The lung window, W1500/L-600: parenchyma, ground-glass and consolidation are all distinguishable. */
export const LUNG_WINDOW: HuWindow = { level: -600, width: 1500 };

/** Maps a Hounsfield value to 0..255 through the window (values outside clip to black or white). */
export function windowHu(hu: number, window: HuWindow): number {
  const low = window.level - window.width / 2;
  const value = ((hu - low) / window.width) * 255;
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** Parses `W1500/L-600` or `1500,-600` (width, level). */
export function parseHuWindow(text: string): HuWindow {
  const match = /^\s*W?\s*(\d+(?:\.\d+)?)\s*[/,]\s*L?\s*(-?\d+(?:\.\d+)?)\s*$/i.exec(text);
  if (!match) throw new Error(`cannot read window "${text}": write it as W1500/L-600 (width/level in HU)`);
  const width = Number(match[1]);
  if (width <= 0) throw new Error(`window width must be positive, got ${width}`);
  return { width, level: Number(match[2]) };
}

/** The inverse of {@link windowHu}: the HU-like value a grey level 0..255 stands for through `window`. */
export function greyToHu(grey: number, window: HuWindow): number {
  return window.level - window.width / 2 + (grey / 255) * window.width;
}
