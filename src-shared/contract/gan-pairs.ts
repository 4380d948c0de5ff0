/**
 * One generated image/mask pair as recorded in PAIRSDIR/pairs.jsonl (one JSON object per line).
 * The image is PAIRSDIR/frames/<id>.png and the mask PAIRSDIR/masks/<id>.png (Kaggle layout, so a
 * pairs folder is also a dataset); the record says where it came from and what people decided.
 */
export interface GeneratedPair {
  /** File stem in frames/ and masks/; unique in the folder. */
  id: string;
  generator: {
    kind: GanKind;
    /** The GAN folder that produced the pair (as given to `covseg gan generate --gan`). */
    ganDir: string;
    epoch: number;
    /** 1 for a GAN trained on real slices only, 2 for one retrained on first-generation pairs, ... */
    generation: number;
  };
  /** The real slice ids (or pair ids, for later generations) whose masks or images fed the generator. */
  sources: string[];
  /** How the input mask was made: a training mask as is, or a new mask derived from real ones. */
  maskOrigin: 'real' | 'elastic' | 'flip' | 'rotate' | 'combined';
  seed: number;
  /** Filled by `covseg gan check`; absent until then. */
  quality?: PairQuality;
  decision: PairDecisionRecord;
}

export type GanKind = 'pix2pix' | 'dagan';

export type PairDecision = 'pending' | 'accepted' | 'rejected';

export interface PairDecisionRecord {
  state: PairDecision;
  /** Who decided (user name, or "auto-reject" for threshold rules); absent while pending. */
  by?: string;
  /** ISO time of the decision. */
  at?: string;
  /** Why, for automatic decisions (e.g. "near-copy of slice 12 (SSIM 0.97)"). */
  reason?: string;
}

export interface PairQuality {
  /** The training slice most similar to the generated image, and how similar. */
  nearestTrainId: string;
  ssimToNearest: number;
  /** Mean absolute grey-level difference to the nearest training image, 0..1. */
  l1ToNearest: number;
  /** True when the generated image is a near-copy of a training image (memorisation). */
  nearCopy: boolean;
  /** Dice of a segmentation model trained on real slices, run on the generated image, against the generated mask. */
  segmentabilityDice: number | null;
  /** Mean intensity inside the lesion minus outside it (inside the lung), in HU-like units. */
  lesionContrast: number | null;
}
