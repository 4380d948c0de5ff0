/** A run's prediction of one slice as the Annotate view holds it (see `AnnotationPrediction`). */
export interface HeldPrediction {
  /** Lesion probability per pixel, quantised to 0..255. */
  probability: Uint8Array;
  /** The class (1 ground-glass, 2 consolidation) each pixel gets when it is lesion. */
  lesionClass: Uint8Array;
  classes: 'lesion' | 'ggo-consolidation';
}

/**
 * The label map "start from prediction" gives at `threshold`: lesion where the quantised
 * probability reaches round(threshold x 255) (never at probability 0); a three-class run gives each
 * lesion pixel its class, a lesion-only run paints the selected label.
 */
export function thresholdPrediction(prediction: HeldPrediction, threshold: number, paintLabel: 1 | 2): Uint8Array {
  const cut = Math.max(1, Math.round(threshold * 255));
  const { probability, lesionClass } = prediction;
  const binary = prediction.classes === 'lesion';
  const out = new Uint8Array(probability.length);
  for (let i = 0; i < out.length; i++) if (probability[i]! >= cut) out[i] = binary ? paintLabel : lesionClass[i]!;
  return out;
}
