import { describe, expect, it } from 'vitest';
import { defaultOptimizer, MODEL_NAMES, resolveModelSpec } from '../../../../src-main/engine/models/registry';
import { resolveTrainConfig } from '../../../../src-main/engine/training/train-config';

describe('model registry', () => {
  it('lists both models and fails on a wrong name with the valid ones', () => {
    expect(MODEL_NAMES).toEqual(['unet', 'segformer']);
    expect(() => resolveModelSpec('segformr')).toThrow(/unknown model "segformr"/);
  });

  it('drops options that belong to another model only, so a run does not record a U-Net depth for SegFormer', () => {
    const spec = resolveModelSpec('segformer', { depth: 4, baseFilters: 16, variant: 'b1', pretrained: '/w/model.safetensors' });
    expect(spec.options).toEqual({ variant: 'b1', channels: 1, outputs: 1, dropPath: 0.1, dropout: 0.1, seed: 1, pretrained: '/w/model.safetensors' });
    expect(resolveModelSpec('unet', { depth: 2, variant: 'b1' }).options).not.toHaveProperty('variant');
    // Shared names (dropout, seed, channels) stay with whichever model is chosen.
    expect(resolveModelSpec('unet', { dropout: 0.2 }).options.dropout).toBe(0.2);
  });

  it('gives SegFormer AdamW (weight decay 0.01) and the U-Net Adam unless the config names one', () => {
    expect(defaultOptimizer('segformer')).toEqual({ name: 'adamw', weightDecay: 0.01 });
    expect(resolveTrainConfig({ data: 'd', model: { name: 'unet', options: {} } }).optimizer).toEqual({ name: 'adam', weightDecay: 0 });
    expect(resolveTrainConfig({ data: 'd', model: { name: 'segformer', options: {} }, optimizer: { name: 'adam', weightDecay: 0 } }).optimizer?.name).toBe('adam');
    expect(() => resolveTrainConfig({ data: 'd', model: { name: 'segformer', options: {} }, size: 48 })).toThrow(/multiple of 32 for segformer, got 48/);
  });
});
