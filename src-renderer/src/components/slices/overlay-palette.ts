/**
 * Overlay colours, mostly Okabe & Ito's colour-blind-safe set (2008): warm for the ground truth
 * (ground-glass yellow, consolidation vermillion), sky blue for a binary prediction, and for the
 * difference layer bluish green / violet / blue. Chosen so that every group of colours that can be on
 * screen together stays apart (CIE76 distance >= 20) for normal vision, deuteranopia and protanopia;
 * tests/renderer/components/slices/overlay-palette.test.ts checks it with simulated vision.
 */
export const COLOURS = {
  groundGlass: [240, 228, 66],
  consolidation: [213, 94, 0],
  /** Truth without class labels: one lesion colour (never shown beside the two classes). */
  lesion: [240, 228, 66],
  prediction: [86, 180, 233],
  truePositive: [0, 158, 115],
  falsePositive: [150, 80, 255],
  falseNegative: [0, 114, 178],
  missedConsolidation: [120, 40, 0],
  groundGlassAsConsolidation: [255, 160, 200],
  consolidationAsGroundGlass: [255, 255, 255],
  /** The computed lung mask: drawn as an outline only, so it hides nothing. */
  lung: [0, 230, 230],
} as const;

export type ColourName = keyof typeof COLOURS;

/** Colours that can be on screen at once: every layer combination is a subset of one of these. */
export const COLOURS_SHOWN_TOGETHER: ColourName[][] = [
  // Lesion masks without classes, binary run: truth, prediction and diff all on.
  ['lesion', 'prediction', 'truePositive', 'falsePositive', 'falseNegative'],
  // Class labels, binary run.
  ['groundGlass', 'consolidation', 'prediction', 'truePositive', 'falsePositive', 'falseNegative'],
  // Class labels, three-class run (the prediction uses the truth's colours).
  ['groundGlass', 'consolidation', 'truePositive', 'falsePositive', 'falseNegative', 'missedConsolidation', 'groundGlassAsConsolidation', 'consolidationAsGroundGlass'],
];

export const LABELS: Record<ColourName, string> = {
  groundGlass: 'ground-glass',
  consolidation: 'consolidation',
  lesion: 'lesion',
  prediction: 'prediction',
  truePositive: 'true positive',
  falsePositive: 'false positive',
  falseNegative: 'false negative',
  missedConsolidation: 'missed consolidation',
  groundGlassAsConsolidation: 'ground-glass called consolidation',
  consolidationAsGroundGlass: 'consolidation called ground-glass',
  lung: 'lung mask (computed)',
};

export interface LegendEntry {
  layer: 'truth' | 'prediction' | 'diff' | 'lung';
  colour: ColourName;
  label: string;
}

export interface LegendState {
  truth: boolean;
  prediction: boolean;
  diff: boolean;
  lung: boolean;
  /** The slice has class labels (ground-glass / consolidation). */
  hasLabels: boolean;
  /** A prediction is loaded for the slice. */
  hasPrediction: boolean;
  /** The prediction is a three-class map. */
  predictedClasses: boolean;
  /** The slice's lung mask is a person's correction (Annotate, target "Lung"), not the computed one. */
  lungCorrected?: boolean;
}

/** The legend of exactly the layers on screen, in drawing order. */
export function legendEntries(s: LegendState): LegendEntry[] {
  const out: LegendEntry[] = [];
  const add = (layer: LegendEntry['layer'], colour: ColourName, label = LABELS[colour]) => out.push({ layer, colour, label });
  if (s.truth) {
    if (s.hasLabels) {
      add('truth', 'groundGlass', 'truth: ground-glass');
      add('truth', 'consolidation', 'truth: consolidation');
    } else add('truth', 'lesion', 'truth: lesion');
  }
  if (s.prediction && s.hasPrediction) {
    if (s.predictedClasses) {
      add('prediction', 'groundGlass', 'prediction: ground-glass');
      add('prediction', 'consolidation', 'prediction: consolidation');
    } else add('prediction', 'prediction', 'prediction: lesion');
  }
  if (s.diff && s.hasPrediction) {
    const byClass = s.predictedClasses && s.hasLabels;
    add('diff', 'truePositive', byClass ? 'right class' : 'true positive');
    add('diff', 'falsePositive', 'false positive');
    add('diff', 'falseNegative', byClass ? 'missed ground-glass' : 'false negative');
    if (byClass) {
      add('diff', 'missedConsolidation');
      add('diff', 'groundGlassAsConsolidation');
      add('diff', 'consolidationAsGroundGlass');
    }
  }
  if (s.lung) add('lung', 'lung', s.lungCorrected ? 'lung: corrected by you' : LABELS.lung);
  return out;
}

export const rgbCss = (name: ColourName) => `rgb(${COLOURS[name].join(', ')})`;
