import { orientEdges, type EdgeLabels, type Orientation } from './orientation';

/**
 * Which computed lung is the patient's right and which the left. Shared by the app's measurement
 * panel, `covseg measure` and the whole-study burden, so all three name the same lung.
 *
 * The rule: a volume (NIfTI, DICOM) says where the patient's right is through its affine (the edge
 * labels of its slices). A PNG slice does not, so the dataset's display orientation is taken to show
 * it in the radiological convention (the patient's right on the screen's left, anterior at the top):
 * turning or flipping the picture in the app turns the sides with it.
 */

/** The edges of a picture shown in the radiological convention. */
export const RADIOLOGICAL_EDGES: EdgeLabels = { top: 'A', bottom: 'P', left: 'R', right: 'L' };

/** The anatomical edges of a stored PNG slice, given that the orientation `o` shows it radiologically. */
export function edgesFromDisplay(o: Orientation): EdgeLabels {
  // orientEdges permutes the four edges: find which stored edge lands on each shown one.
  const shown = orientEdges({ top: 'top', bottom: 'bottom', left: 'left', right: 'right' }, o);
  const stored: EdgeLabels = { top: '', bottom: '', left: '', right: '' };
  for (const edge of ['top', 'bottom', 'left', 'right'] as const) stored[shown[edge] as keyof EdgeLabels] = RADIOLOGICAL_EDGES[edge];
  return stored;
}

/** The lung label (1 or 2 of a lung map) that is the patient's right and left; null where unknown. */
export interface LungSides {
  right: 1 | 2 | null;
  left: 1 | 2 | null;
}

/**
 * Assigns the lungs of a `[height, width]` lung map (0 outside, 1 and 2 the two lungs) to the
 * patient's sides, given the anatomical labels of the slice's edges. Two lungs must lie apart along
 * the right-left axis more than along the other one (else the picture is turned and the sides are
 * unknown); a single lung takes the side of the slice's half it lies in.
 */
export function lungSides(lung: ArrayLike<number>, width: number, height: number, edges: EdgeLabels): LungSides {
  const unknown: LungSides = { right: null, left: null };
  // Unit vector toward the patient's right in image coordinates (x right, y down).
  let toRight: [number, number];
  if (edges.right === 'R') toRight = [1, 0];
  else if (edges.left === 'R') toRight = [-1, 0];
  else if (edges.bottom === 'R') toRight = [0, 1];
  else if (edges.top === 'R') toRight = [0, -1];
  else return unknown;
  const sum = [
    { n: 0, x: 0, y: 0 },
    { n: 0, x: 0, y: 0 },
  ];
  for (let i = 0; i < width * height; i++) {
    const v = lung[i]!;
    if (v !== 1 && v !== 2) continue;
    const s = sum[v - 1]!;
    s.n++;
    s.x += i % width;
    s.y += Math.floor(i / width);
  }
  // Position of each lung's centroid from the slice's centre: along the right-left axis, and across it.
  const position = sum.map((s) => {
    if (s.n === 0) return null;
    const dx = s.x / s.n - (width - 1) / 2;
    const dy = s.y / s.n - (height - 1) / 2;
    return { along: dx * toRight[0] + dy * toRight[1], across: dy * toRight[0] - dx * toRight[1] };
  });
  const [a, b] = position;
  if (a && b) {
    if (Math.abs(a.along - b.along) <= Math.abs(a.across - b.across)) return unknown;
    return a.along > b.along ? { right: 1, left: 2 } : { right: 2, left: 1 };
  }
  const one = a ?? b;
  if (!one || Math.abs(one.along) < 1e-9) return unknown;
  const label: 1 | 2 = a ? 1 : 2;
  return one.along > 0 ? { right: label, left: null } : { right: null, left: label };
}

/**
 * The lung label (1 or 2) to paint for the patient's `side` when correcting a lung map: the label
 * {@link lungSides} already gives that side on this slice, else the one the computed mask would give
 * a lung lying on that side (1 toward the image's left or top, 2 toward its right or bottom), so
 * painted lung joins the right lung and both lungs keep their sides. Null when the edges do not say
 * where the patient's right is.
 */
export function lungLabelForSide(side: 'right' | 'left', lung: ArrayLike<number>, width: number, height: number, edges: EdgeLabels): 1 | 2 | null {
  const sides = lungSides(lung, width, height, edges);
  const known = sides[side];
  if (known) return known;
  const other = sides[side === 'right' ? 'left' : 'right'];
  if (other) return other === 1 ? 2 : 1;
  // Along which image direction the patient's right lies: toward +x / +y means the right lung is label 2.
  const rightTowardPositive = edges.right === 'R' || edges.bottom === 'R' ? true : edges.left === 'R' || edges.top === 'R' ? false : null;
  if (rightTowardPositive === null) return null;
  return (side === 'right') === rightTowardPositive ? 2 : 1;
}
