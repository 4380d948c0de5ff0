/** Lesion volume of one class in a predicted label volume. */
export interface ClassBurden {
  /** Label value in the volume (1 lesion; or 1 ground-glass, 2 consolidation). */
  value: number;
  name: string;
  voxels: number;
  /** voxels x voxel volume, in millilitres (1 mL = 1000 mm^3). */
  volumeMl: number;
}

/** The lesion burden of one study, computed from its predicted label volume. */
export interface LesionBurden {
  /** Volume of one voxel in mL: |det| of the affine's 3x3 part (mm^3) / 1000. */
  voxelVolumeMl: number;
  /** Every lesion class, in label order. */
  classes: ClassBurden[];
  /** All lesion classes together. */
  lesionVoxels: number;
  lesionVolumeMl: number;
  /** Axial (k) slices with at least one lesion voxel, and all slices of the volume. */
  slicesInvolved: number;
  slices: number;
  /** slicesInvolved / slices, 0..1. */
  fractionSlicesInvolved: number;
  /** Percent of the lung volume that is lesion: null until a lung mask is available (see lungInvolvedNote). */
  lungInvolvedPercent: number | null;
  lungInvolvedNote: string;
}
