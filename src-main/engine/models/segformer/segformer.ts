import * as tfl from '@tensorflow/tfjs-layers';
import { requireParameter } from '../../errors';
import { batchNormalization } from '../batch-normalization-layer';
import { BilinearUpsample, EfficientAttention, MixFfn, SeededDropout, TokenLayerNorm } from './segformer-layers';

export const SEGFORMER_VARIANTS = ['b0', 'b1'] as const;
export type SegformerVariant = (typeof SEGFORMER_VARIANTS)[number];

/** Mix Transformer hyper-parameters of one variant (SegFormer paper, Table 6). */
export interface MitHyperParameters {
  channels: [number, number, number, number];
  depths: [number, number, number, number];
  heads: [number, number, number, number];
  decoderChannels: number;
}

export const MIT_VARIANTS: Record<SegformerVariant, MitHyperParameters> = {
  b0: { channels: [32, 64, 160, 256], depths: [2, 2, 2, 2], heads: [1, 2, 5, 8], decoderChannels: 256 },
  b1: { channels: [64, 128, 320, 512], depths: [2, 2, 2, 2], heads: [1, 2, 5, 8], decoderChannels: 256 },
};

/** Sequence-reduction ratios, patch sizes and strides of the four stages (the same for B0-B5). */
const REDUCTION = [8, 4, 2, 1];
const PATCH = [7, 3, 3, 3];
const STRIDE = [4, 2, 2, 2];
const MLP_RATIO = 4;

export interface SegformerOptions {
  variant: SegformerVariant;
  /** Input channels (1 for CT). */
  channels: number;
  /** Output logits per pixel (1 for a binary lesion mask). */
  outputs: number;
  /** Stochastic-depth rate of the last block, rising linearly from 0 at the first (paper: 0.1). */
  dropPath: number;
  /** Dropout before the classifier (paper: 0.1). */
  dropout: number;
  /** Seed of the weight initialisers and of the dropout masks. */
  seed: number;
  /** A MiT encoder `model.safetensors` the encoder starts from; recorded, loaded by the registry. */
  pretrained?: string;
}

export const SEGFORMER_DEFAULTS: SegformerOptions = { variant: 'b0', channels: 1, outputs: 1, dropPath: 0.1, dropout: 0.1, seed: 1 };

/** Side multiple SegFormer needs: the last stage is 1/32 of the input and its attention is exact there. */
export const SEGFORMER_SIZE_MULTIPLE = 32;

/** Layer names the pretrained-weight loader maps checkpoint tensors onto. */
export const segformerLayerNames = {
  patchConv: (stage: number) => `s${stage}_patch_conv`,
  patchNorm: (stage: number) => `s${stage}_patch_norm`,
  norm1: (stage: number, block: number) => `s${stage}_b${block}_norm1`,
  attention: (stage: number, block: number) => `s${stage}_b${block}_attn`,
  norm2: (stage: number, block: number) => `s${stage}_b${block}_norm2`,
  ffn: (stage: number, block: number) => `s${stage}_b${block}_ffn`,
  stageNorm: (stage: number) => `s${stage}_norm`,
};

/**
 * SegFormer (Xie et al., NeurIPS 2021): a hierarchical Mix Transformer encoder (overlapping patch
 * embeddings, efficient self-attention with sequence reduction 8/4/2/1, Mix-FFN, stochastic depth)
 * and the all-MLP decoder (per-stage linear to 256 channels, up-sampled to 1/4, concatenated, fused
 * by a 1x1 convolution with batch norm and ReLU, classified), the logits up-sampled bilinearly to
 * the input size. Layout follows HF transformers' `modeling_segformer.py`, so its checkpoints map on.
 * Input `[batch, height, width, channels]` (sides multiples of 32), output logits
 * `[batch, height, width, outputs]`.
 */
export function buildSegformer(options: Partial<SegformerOptions> = {}): tfl.LayersModel {
  const o = { ...SEGFORMER_DEFAULTS, ...options };
  requireParameter((SEGFORMER_VARIANTS as readonly string[]).includes(o.variant), `unknown SegFormer variant "${o.variant}"`, `use one of: ${SEGFORMER_VARIANTS.join(', ')}`);
  requireParameter(Number.isInteger(o.outputs) && o.outputs >= 1, `SegFormer output channels must be a positive integer, got ${o.outputs}`);
  requireParameter(o.dropPath >= 0 && o.dropPath < 1, `SegFormer drop-path rate must be in [0, 1), got ${o.dropPath}`);
  requireParameter(o.dropout >= 0 && o.dropout < 1, `dropout must be in [0, 1), got ${o.dropout}`);
  const hp = MIT_VARIANTS[o.variant];
  const names = segformerLayerNames;
  let seed = o.seed * 1000;
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [null, null, o.channels], name: 'ct' });
  const totalBlocks = hp.depths.reduce((a, b) => a + b, 0);
  let blockIndex = 0;
  let x: tfl.SymbolicTensor = input;
  const stages: tfl.SymbolicTensor[] = [];
  for (let s = 0; s < 4; s++) {
    const c = hp.channels[s]!;
    // Overlapping patch embedding: PyTorch pads k // 2 on every side, which tfjs's 'same' does not
    // (it pads asymmetrically for strided convolutions), hence the explicit padding.
    x = apply(tfl.layers.zeroPadding2d({ padding: Math.floor(PATCH[s]! / 2), name: `s${s}_patch_pad` }), x);
    x = apply(
      tfl.layers.conv2d({
        filters: c,
        kernelSize: PATCH[s]!,
        strides: STRIDE[s]!,
        padding: 'valid',
        kernelInitializer: tfl.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: seed++ }),
        name: names.patchConv(s),
      }),
      x,
    );
    const norm = (name: string) => new TokenLayerNorm({ channels: c, name });
    x = apply(norm(names.patchNorm(s)), x);
    for (let b = 0; b < hp.depths[s]!; b++) {
      const rate = totalBlocks > 1 ? (o.dropPath * blockIndex) / (totalBlocks - 1) : 0;
      blockIndex++;
      const dropPath = (name: string, y: tfl.SymbolicTensor) => (rate > 0 ? apply(new SeededDropout({ rate, mode: 'sample', seed: seed++, name }), y) : y);
      let y = apply(norm(names.norm1(s, b)), x);
      y = apply(new EfficientAttention({ channels: c, heads: hp.heads[s]!, reduction: REDUCTION[s]!, seed: (seed += 8), name: names.attention(s, b) }), y);
      x = apply(tfl.layers.add({ name: `s${s}_b${b}_add1` }), [x, dropPath(`s${s}_b${b}_drop1`, y)]);
      y = apply(norm(names.norm2(s, b)), x);
      y = apply(new MixFfn({ channels: c, hidden: c * MLP_RATIO, seed: (seed += 4), name: names.ffn(s, b) }), y);
      x = apply(tfl.layers.add({ name: `s${s}_b${b}_add2` }), [x, dropPath(`s${s}_b${b}_drop2`, y)]);
    }
    x = apply(norm(names.stageNorm(s)), x);
    stages.push(x);
  }

  const d = hp.decoderChannels;
  const decoderInit = () => tfl.initializers.truncatedNormal({ stddev: 0.02, seed: seed++ });
  // Deepest stage first, as HF concatenates them.
  const projected = [3, 2, 1, 0].map((s) => {
    const linear = apply(tfl.layers.dense({ units: d, kernelInitializer: decoderInit(), name: `decode_linear${s}` }), stages[s]!);
    return s === 0 ? linear : apply(new BilinearUpsample({ factor: 2 ** s, name: `decode_up${s}` }), linear);
  });
  let y = apply(tfl.layers.concatenate({ name: 'decode_concat' }), projected);
  y = apply(tfl.layers.conv2d({ filters: d, kernelSize: 1, useBias: false, kernelInitializer: decoderInit(), name: 'decode_fuse' }), y);
  y = apply(batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'decode_bn' }), y);
  y = apply(tfl.layers.reLU({ name: 'decode_relu' }), y);
  if (o.dropout > 0) y = apply(new SeededDropout({ rate: o.dropout, mode: 'element', seed: seed++, name: 'decode_dropout' }), y);
  y = apply(tfl.layers.conv2d({ filters: o.outputs, kernelSize: 1, kernelInitializer: decoderInit(), name: 'decode_classifier' }), y);
  const logits = apply(new BilinearUpsample({ factor: 4, name: 'logits' }), y);
  return tfl.model({ inputs: input, outputs: logits, name: `segformer_${o.variant}` });
}
