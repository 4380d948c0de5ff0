import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CovsegError } from '../../errors';
import { readSafetensors, type SafeTensor } from './safetensors-file';
import { MIT_VARIANTS, segformerLayerNames as names, type SegformerVariant } from './segformer';

/** How a PyTorch tensor becomes a tfjs weight. */
type Layout = 'vector' | 'linear' | 'conv' | 'depthwise';

interface Target {
  /** Checkpoint name without the encoder prefix. */
  tensor: string;
  layer: string;
  weight: string;
  layout: Layout;
}

/** What {@link loadPretrainedEncoder} did, for the run record and the user. */
export interface PretrainedReport {
  file: string;
  /** Name prefix found in the file (`segformer.encoder.` in nvidia/mit-b* checkpoints). */
  prefix: string;
  loaded: number;
  /** Tensors in the file that the encoder has no place for (e.g. the ImageNet classifier). */
  unexpected: string[];
  /** Set when RGB patch-embedding weights were summed over their input channels for a 1-channel input. */
  inputChannelsAdapted?: string;
}

const PREFIXES = ['segformer.encoder.', 'encoder.', ''];

/** Every encoder tensor of a MiT checkpoint (HF transformers naming) and the layer weight it fills. */
export function mitTensorTargets(variant: SegformerVariant): Target[] {
  const targets: Target[] = [];
  const pair = (tensor: string, layer: string, kernel: string, bias: string, layout: Layout) => {
    targets.push({ tensor: `${tensor}.weight`, layer, weight: kernel, layout }, { tensor: `${tensor}.bias`, layer, weight: bias, layout: 'vector' });
  };
  const norm = (tensor: string, layer: string) => pair(tensor, layer, 'gamma', 'beta', 'vector');
  const hp = MIT_VARIANTS[variant];
  for (let s = 0; s < 4; s++) {
    pair(`patch_embeddings.${s}.proj`, names.patchConv(s), 'kernel', 'bias', 'conv');
    norm(`patch_embeddings.${s}.layer_norm`, names.patchNorm(s));
    for (let b = 0; b < hp.depths[s]!; b++) {
      const block = `block.${s}.${b}`;
      const attention = names.attention(s, b);
      const ffn = names.ffn(s, b);
      norm(`${block}.layer_norm_1`, names.norm1(s, b));
      for (const part of ['query', 'key', 'value']) pair(`${block}.attention.self.${part}`, attention, `${part}_kernel`, `${part}_bias`, 'linear');
      if (s < 3) {
        pair(`${block}.attention.self.sr`, attention, 'sr_kernel', 'sr_bias', 'conv');
        pair(`${block}.attention.self.layer_norm`, attention, 'sr_gamma', 'sr_beta', 'vector');
      }
      pair(`${block}.attention.output.dense`, attention, 'output_kernel', 'output_bias', 'linear');
      norm(`${block}.layer_norm_2`, names.norm2(s, b));
      pair(`${block}.mlp.dense1`, ffn, 'dense1_kernel', 'dense1_bias', 'linear');
      pair(`${block}.mlp.dwconv.dwconv`, ffn, 'dwconv_kernel', 'dwconv_bias', 'depthwise');
      pair(`${block}.mlp.dense2`, ffn, 'dense2_kernel', 'dense2_bias', 'linear');
    }
    norm(`layer_norm.${s}`, names.stageNorm(s));
  }
  return targets;
}

/** PyTorch layouts to tfjs: linear `[out, in]` -> `[in, out]`, conv OIHW -> HWIO, depthwise `[C, 1, kh, kw]` -> `[kh, kw, C, 1]`. */
function toTfjs(source: SafeTensor, layout: Layout): tf.Tensor {
  const t = tf.tensor(source.values, source.shape);
  switch (layout) {
    case 'linear':
      return tf.transpose(t, [1, 0]);
    case 'conv':
      return tf.transpose(t, [2, 3, 1, 0]);
    case 'depthwise':
      return tf.transpose(t, [2, 3, 0, 1]);
    default:
      return t;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Loads a MiT encoder from a local `model.safetensors` (nvidia/mit-b0 or mit-b1, HF transformers
 * naming) into a SegFormer built by `buildSegformer`. Every encoder tensor must be present with the
 * right shape: a missing tensor or a wrong shape fails naming it. Names the encoder has no place for
 * are reported as unexpected, not an error (a classification checkpoint carries its classifier).
 * For a 1-channel input, RGB patch-embedding weights are summed over their input channels (as
 * timm's `adapt_input_conv` does), which keeps a grey image's response the same as for R=G=B.
 * Nothing is downloaded.
 */
export function loadPretrainedEncoder(model: tfl.LayersModel, file: string, variant: SegformerVariant): PretrainedReport {
  const tensors = readSafetensors(file);
  const targets = mitTensorTargets(variant);
  const prefix = PREFIXES.find((p) => tensors.has(`${p}${targets[0]!.tensor}`));
  if (prefix === undefined) {
    throw new CovsegError('bad-parameter', `no MiT encoder tensors in this file (looked for "segformer.encoder.${targets[0]!.tensor}")`, {
      file,
      fix: 'use the model.safetensors of nvidia/mit-b0 (for --variant b0) or nvidia/mit-b1 (b1)',
    });
  }
  const missing = targets.filter((t) => !tensors.has(prefix + t.tensor)).map((t) => prefix + t.tensor);
  if (missing.length > 0) {
    throw new CovsegError('bad-parameter', `the weights file lacks ${missing.length} MiT-${variant.toUpperCase()} encoder tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`, {
      file,
      fix: `use the model.safetensors of nvidia/mit-${variant}`,
    });
  }
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  const report: PretrainedReport = { file, prefix, loaded: 0, unexpected: [] };
  const expected = new Set(targets.map((t) => prefix + t.tensor));
  report.unexpected = [...tensors.keys()].filter((name) => !expected.has(name)).sort();
  // Shapes are all checked before any weight is written, so a bad file leaves the model untouched.
  const writes: { variable: tfl.LayerVariable; value: tf.Tensor }[] = [];
  try {
    for (const target of targets) {
      const name = prefix + target.tensor;
      const layer = layers.get(target.layer);
      const variable = layer?.weights.find((w) => w.originalName === `${target.layer}/${target.weight}`);
      if (!variable) throw new CovsegError('internal', `SegFormer has no weight ${target.layer}/${target.weight} for ${name}`);
      let value = toTfjs(tensors.get(name)!, target.layout);
      if (target.layer === names.patchConv(0) && target.layout === 'conv' && value.shape[2] !== variable.shape[2] && variable.shape[2] === 1) {
        const summed = tf.sum(value, 2, true);
        value.dispose();
        value = summed;
        report.inputChannelsAdapted = `${name}: ${tensors.get(name)!.shape[1]} input channels summed to 1`;
      }
      writes.push({ variable, value });
      if (!sameShape(value.shape, variable.shape as number[])) {
        const source = tensors.get(name)!;
        throw new CovsegError('bad-parameter', `tensor ${name} has shape [${source.shape.join(', ')}]; MiT-${variant.toUpperCase()} needs a tensor that becomes [${variable.shape.join(', ')}]`, {
          file,
          fix: `check that the file is nvidia/mit-${variant} (a different variant has different widths), or pick the matching --variant`,
        });
      }
    }
    for (const { variable, value } of writes) variable.write(value);
    report.loaded = writes.length;
  } finally {
    tf.dispose(writes.map((w) => w.value));
  }
  return report;
}
