import { PRESET_RECIPES } from '../transforms/recipes';

/** A preset experiment: everything but the dataset, which the user supplies. */
export interface ExperimentPreset {
  name: string;
  axes: { recipes: string[]; models: string[]; losses: string[]; seeds: number[] };
  fixed: Record<string, number | string>;
}

/**
 * `seed-study`: the study's eight recipes x U-Net and SegFormer x BCE and Dice x 3 seeds (96 runs,
 * 50 epochs as in the study). `quick`: two recipes, two seeds, tiny models — for the demo.
 */
export const EXPERIMENT_PRESETS: Record<string, ExperimentPreset> = {
  'seed-study': {
    name: 'seed-study',
    axes: { recipes: Object.keys(PRESET_RECIPES), models: ['unet', 'segformer'], losses: ['bce', 'dice'], seeds: [1, 2, 3] },
    fixed: { epochs: 50, size: 128 },
  },
  quick: {
    name: 'quick',
    axes: { recipes: ['origin', 'fliprot+elastic'], models: ['unet'], losses: ['bce'], seeds: [1, 2] },
    fixed: { epochs: 2, size: 32, depth: 2, baseFilters: 4 },
  },
};
