/**
 * Single-run test figures the seed study published (its tables), shown beside ours and labelled
 * as theirs. Only the numbers we know are listed; the rest stay blank rather than guessed.
 */
export interface PublishedResult {
  model: string;
  loss: string;
  recipe: string;
  f1: number;
  miou?: number;
  note: string;
}

export const PUBLISHED_RESULTS: readonly PublishedResult[] = [
  { model: 'unet', loss: 'bce', recipe: 'origin', f1: 0.7489, miou: 0.641, note: 'U-Net, BCE, 50 epochs, single run' },
  { model: 'unet', loss: 'bce', recipe: 'origin+gan', f1: 0.8333, miou: 0.746, note: 'U-Net, BCE, 50 epochs, single run' },
  { model: 'segformer', loss: 'dice', recipe: 'origin', f1: 0.7599, note: 'SegFormer, Dice, single run' },
  { model: 'segformer', loss: 'dice', recipe: 'origin+gan', f1: 0.7756, note: 'SegFormer, Dice, single run' },
];

export function publishedFor(model: string, loss: string, recipe: string): PublishedResult | undefined {
  return PUBLISHED_RESULTS.find((p) => p.model === model && p.loss === loss && p.recipe === recipe);
}
