/**
 * What a volume's affine says about its axial slices as the datasets show them (voxel i to the
 * right, the highest j at the top): the anatomical direction at each edge and the pixel size.
 * World coordinates are RAS millimetres (+x right, +y anterior, +z superior), as in NIfTI.
 */
export interface SliceGeometry {
  edges: { top: string; bottom: string; left: string; right: string };
  /** Pixel size in mm [column, row] and the distance between slices. */
  spacing: [number, number, number];
}

const POSITIVE = ['R', 'A', 'S'];
const NEGATIVE = ['L', 'P', 'I'];

/** The letter of the world axis a voxel axis mostly points along, e.g. [0.1, -0.99, 0] -> 'P'. */
function directionLetter(v: number[]): string {
  let axis = 0;
  for (let k = 1; k < 3; k++) if (Math.abs(v[k]!) > Math.abs(v[axis]!)) axis = k;
  return (v[axis]! >= 0 ? POSITIVE : NEGATIVE)[axis]!;
}

/** Edge labels and pixel size of an axial slice of a volume with this 4x4 voxel-to-RAS affine. */
export function sliceGeometry(affine: number[][]): SliceGeometry {
  const column = (c: number) => [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!];
  const i = column(0);
  const j = column(1);
  const k = column(2);
  const opposite = (v: number[]) => v.map((x) => -x);
  return {
    edges: { right: directionLetter(i), left: directionLetter(opposite(i)), top: directionLetter(j), bottom: directionLetter(opposite(j)) },
    spacing: [Math.hypot(...i), Math.hypot(...j), Math.hypot(...k)],
  };
}
