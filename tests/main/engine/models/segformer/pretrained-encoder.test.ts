import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../../src-main/engine/backend/select-backend';
import { createModel, describeModel } from '../../../../../src-main/engine/models/registry';
import { loadPretrainedEncoder } from '../../../../../src-main/engine/models/segformer/pretrained-encoder';
import { buildSegformer } from '../../../../../src-main/engine/models/segformer/segformer';
import { mitB0Checkpoint, writeSafetensors } from '../../../../fixtures/safetensors-writer';
import { tempDir } from '../../../../fixtures/temp-dir';

const weight = (model: ReturnType<typeof buildSegformer>, name: string) => model.weights.find((w) => w.originalName === name)!.read().arraySync();

describe('loading a MiT encoder from model.safetensors', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('maps every HF tensor onto the encoder, transposing PyTorch layouts, and reports the classifier as unexpected', async () => {
    const checkpoint = mitB0Checkpoint();
    const file = join(await tempDir(), 'model.safetensors');
    await writeSafetensors(file, checkpoint);
    const model = createModel('segformer', { variant: 'b0', pretrained: file });
    const info = describeModel(model);
    expect(info.parameters).toBe(3_711_777);
    expect(info.pretrained?.prefix).toBe('segformer.encoder.');
    expect(info.pretrained?.loaded).toBe(checkpoint.size - 2);
    expect(info.pretrained?.unexpected).toEqual(['classifier.bias', 'classifier.weight']);
    expect(info.pretrained?.inputChannelsAdapted).toMatch(/patch_embeddings\.0\.proj\.weight: 3 input channels summed to 1/);

    // Linear [out, in] -> [in, out]: kernel[i][o] = weight[o][i].
    const query = checkpoint.get('segformer.encoder.block.1.0.attention.self.query.weight')!;
    const kernel = weight(model, 's1_b0_attn/query_kernel') as number[][];
    expect(kernel[3]![5]).toBeCloseTo(query.values[5 * 64 + 3]!, 7);
    // Conv OIHW -> HWIO: sr kernel [r, r, in, out] at (h, w, i, o) = weight[o][i][h][w], R = 4 in stage 1.
    const sr = checkpoint.get('segformer.encoder.block.1.1.attention.self.sr.weight')!;
    const srKernel = weight(model, 's1_b1_attn/sr_kernel') as number[][][][];
    expect(srKernel[2]![1]![7]![9]).toBeCloseTo(sr.values[((9 * 64 + 7) * 4 + 2) * 4 + 1]!, 7);
    // Depthwise [C, 1, 3, 3] -> [3, 3, C, 1].
    const dw = checkpoint.get('segformer.encoder.block.3.1.mlp.dwconv.dwconv.weight')!;
    expect((weight(model, 's3_b1_ffn/dwconv_kernel') as number[][][][])[0]![2]![100]![0]).toBeCloseTo(dw.values[100 * 9 + 2]!, 7);
    // RGB stem summed to one channel: [7, 7, 1, 32] at (h, w, 0, o) = sum over c of weight[o][c][h][w].
    const stem = checkpoint.get('segformer.encoder.patch_embeddings.0.proj.weight')!;
    const stemSum = [0, 1, 2].reduce((sum, c) => sum + stem.values[((4 * 3 + c) * 7 + 6) * 7 + 5]!, 0);
    expect((weight(model, 's0_patch_conv/kernel') as number[][][][])[6]![5]![0]![4]).toBeCloseTo(stemSum, 6);
    const norm = checkpoint.get('segformer.encoder.layer_norm.2.weight')!;
    expect((weight(model, 's2_norm/gamma') as number[])[17]).toBeCloseTo(norm.values[17]!, 7);
    model.dispose();
  });

  it('names the tensor whose shape is wrong and leaves the model untouched', async () => {
    const checkpoint = mitB0Checkpoint();
    checkpoint.set('segformer.encoder.block.2.0.mlp.dense1.weight', { shape: [640, 159], values: new Float32Array(640 * 159) });
    const file = join(await tempDir(), 'model.safetensors');
    await writeSafetensors(file, checkpoint);
    const model = buildSegformer({ variant: 'b0' });
    const before = weight(model, 's0_b0_attn/query_kernel');
    expect(() => loadPretrainedEncoder(model, file, 'b0')).toThrow(/tensor segformer\.encoder\.block\.2\.0\.mlp\.dense1\.weight has shape \[640, 159\]/);
    expect(weight(model, 's0_b0_attn/query_kernel')).toEqual(before);
    model.dispose();
  });

  it('rejects a B0 checkpoint for B1 naming a tensor, and a file lacking tensors naming them', async () => {
    const file = join(await tempDir(), 'model.safetensors');
    await writeSafetensors(file, mitB0Checkpoint());
    expect(() => createModel('segformer', { variant: 'b1', pretrained: file })).toThrow(/tensor segformer\.encoder\.patch_embeddings\.0\.proj\.weight has shape \[32, 3, 7, 7\].*MiT-B1/);
    const partial = mitB0Checkpoint();
    partial.delete('segformer.encoder.block.0.1.attention.self.key.bias');
    const partialFile = join(await tempDir(), 'partial.safetensors');
    await writeSafetensors(partialFile, partial);
    expect(() => createModel('segformer', { pretrained: partialFile })).toThrow(/lacks 1 MiT-B0 encoder tensor\(s\): segformer\.encoder\.block\.0\.1\.attention\.self\.key\.bias/);
  });
});
