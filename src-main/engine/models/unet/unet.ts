import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { requireParameter } from '../../errors';
import { batchNormalization } from '../batch-normalization-layer';

export interface UnetOptions {
  /** Number of down-sampling steps; input sides must be divisible by 2^depth. */
  depth: number;
  /** Filters of the first level; doubled at each level down. */
  baseFilters: number;
  batchNorm: boolean;
  /** Dropout rate before the bottleneck's second convolution (0 disables it). */
  dropout: number;
  /** Input channels (1 for CT). */
  channels: number;
  /** Output channels: 1 logit (binary, sigmoid) or one logit per class (softmax). */
  outputs: number;
  /** Seed of the weight initialisers. */
  seed: number;
}

export const UNET_DEFAULTS: UnetOptions = { depth: 4, baseFilters: 16, batchNorm: true, dropout: 0, channels: 1, outputs: 1, seed: 1 };

/** Accepted ranges: each level halves the slice and doubles the filters, so depth 6 at base 256 is already huge. */
export const UNET_LIMITS = { depth: { min: 1, max: 6 }, baseFilters: { min: 1, max: 256 } } as const;

/**
 * U-Net (Ronneberger et al. 2015): 3x3 conv blocks, 2x2 max-pooling down, 2x2 stride-2 transposed
 * convolutions up, skip connections by concatenation, a 1x1 convolution to `outputs` logits per pixel.
 * Input `[batch, height, width, channels]`, output logits `[batch, height, width, outputs]`.
 */
export function buildUnet(options: Partial<UnetOptions> = {}, fusedForInference = false): tfl.LayersModel {
  const o = { ...UNET_DEFAULTS, ...options };
  const { depth, baseFilters } = UNET_LIMITS;
  requireParameter(Number.isInteger(o.depth) && o.depth >= depth.min && o.depth <= depth.max, `U-Net depth must be ${depth.min}-${depth.max}, got ${o.depth}`);
  requireParameter(Number.isInteger(o.baseFilters) && o.baseFilters >= baseFilters.min && o.baseFilters <= baseFilters.max, `U-Net base filters must be ${baseFilters.min}-${baseFilters.max}, got ${o.baseFilters}`);
  requireParameter(Number.isInteger(o.outputs) && o.outputs >= 1 && o.outputs <= 16, `U-Net outputs must be 1-16, got ${o.outputs}`);
  requireParameter(o.dropout >= 0 && o.dropout < 1, `dropout must be in [0, 1), got ${o.dropout}`);
  let seed = o.seed * 1000;
  const init = () => tfl.initializers.heNormal({ seed: seed++ });
  const convBlock = (x: tfl.SymbolicTensor, filters: number, name: string, dropout = 0): tfl.SymbolicTensor => {
    let y = x;
    for (let i = 1; i <= 2; i++) {
      if (fusedForInference) {
        // Batch norm folded into the kernel and bias, ReLU fused: one FusedConv2D kernel per conv.
        y = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: true, activation: 'relu', name: `${name}_conv${i}` }).apply(y) as tfl.SymbolicTensor;
        continue;
      }
      if (i === 2 && dropout > 0) y = tfl.layers.dropout({ rate: dropout, seed: seed++, name: `${name}_dropout` }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: !o.batchNorm, kernelInitializer: init(), name: `${name}_conv${i}` }).apply(y) as tfl.SymbolicTensor;
      // Momentum 0.9 (PyTorch's default) rather than Keras' 0.99: moving statistics settle within the
      // few hundred steps a small CT dataset gives, so validation in inference mode is not stale.
      if (o.batchNorm) y = batchNormalization({ momentum: 0.9, name: `${name}_bn${i}` }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.reLU({ name: `${name}_relu${i}` }).apply(y) as tfl.SymbolicTensor;
    }
    return y;
  };
  const input = tfl.input({ shape: [null, null, o.channels], name: 'ct' });
  const skips: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  for (let level = 0; level < o.depth; level++) {
    x = convBlock(x, o.baseFilters * 2 ** level, `down${level}`);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${level}` }).apply(x) as tfl.SymbolicTensor;
  }
  x = convBlock(x, o.baseFilters * 2 ** o.depth, 'bottleneck', o.dropout);
  for (let level = o.depth - 1; level >= 0; level--) {
    const filters = o.baseFilters * 2 ** level;
    x = tfl.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'valid', kernelInitializer: init(), name: `up${level}_upconv` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.concatenate({ name: `up${level}_concat` }).apply([skips[level]!, x]) as tfl.SymbolicTensor;
    x = convBlock(x, filters, `up${level}`);
  }
  const logits = tfl.layers.conv2d({ filters: o.outputs, kernelSize: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }), name: 'logits' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'unet' });
}

/** Smallest side multiple the model accepts (2^depth). */
export function unetSizeMultiple(depth: number): number {
  return 2 ** depth;
}

export type { tf };
