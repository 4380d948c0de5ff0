import type * as tfl from '@tensorflow/tfjs-layers';

/** A layer whose random masks come from its seed and a draw number (SegFormer's dropout, stochastic depth). */
export interface SeededDraws {
  draw: number;
}

function hasSeededDraws(layer: unknown): layer is SeededDraws {
  return typeof (layer as Partial<SeededDraws>).draw === 'number';
}

/** Draw slots per optimisation step: one per data-parallel replica, so replicas never share a mask. */
export const DRAWS_PER_STEP = 8;

/**
 * Puts every seeded random layer of a model at the draw of optimisation step `step` for replica
 * `replica`. Masks then depend on the step, not on how many calls this process has made, so a run
 * resumed from a checkpoint draws exactly what an uninterrupted run would.
 */
export function positionDraws(model: tfl.LayersModel, step: number, replica = 0): void {
  for (const layer of model.layers) if (hasSeededDraws(layer)) layer.draw = step * DRAWS_PER_STEP + replica;
}
