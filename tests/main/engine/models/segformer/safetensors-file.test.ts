import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../../../src-main/engine/models/segformer/safetensors-file';
import { writeSafetensors } from '../../../../fixtures/safetensors-writer';
import { tempDir } from '../../../../fixtures/temp-dir';

function rawFile(header: object, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

describe('reading safetensors', () => {
  it('reads names, shapes and float32 values, skipping the metadata', async () => {
    const file = join(await tempDir(), 'a.safetensors');
    await writeSafetensors(file, new Map([['w', { shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, -6.5]) }], ['b', { shape: [1], values: Float32Array.from([0.25]) }]]));
    const tensors = readSafetensors(file);
    expect([...tensors.keys()]).toEqual(['w', 'b']);
    expect(tensors.get('w')!.shape).toEqual([2, 3]);
    expect(Array.from(tensors.get('w')!.values)).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect(Array.from(tensors.get('b')!.values)).toEqual([0.25]);
  });

  it('decodes F16 and BF16 to float32', async () => {
    const data = Buffer.alloc(8);
    data.writeUInt16LE(0x3c00, 0); // F16 1.0
    data.writeUInt16LE(0xc000, 2); // F16 -2.0
    data.writeUInt16LE(0x3f80, 4); // BF16 1.0
    data.writeUInt16LE(0x4049, 6); // BF16 3.140625
    const file = join(await tempDir(), 'h.safetensors');
    await writeFile(file, rawFile({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }, data));
    const tensors = readSafetensors(file);
    expect(Array.from(tensors.get('h')!.values)).toEqual([1, -2]);
    expect(Array.from(tensors.get('b')!.values)).toEqual([1, 3.140625]);
  });

  it('rejects damaged files naming the file and the problem', async () => {
    const dir = await tempDir();
    const tooLong = join(dir, 'long.safetensors');
    const bad = Buffer.alloc(16);
    bad.writeBigUInt64LE(1000n);
    await writeFile(tooLong, bad);
    expect(() => readSafetensors(tooLong)).toThrow(/header length 1000 does not fit/);
    const outside = join(dir, 'outside.safetensors');
    await writeFile(outside, rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)));
    expect(() => readSafetensors(outside)).toThrow(/tensor "w" .* outside the data or of the wrong size/);
    const ints = join(dir, 'ints.safetensors');
    await writeFile(ints, rawFile({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)));
    expect(() => readSafetensors(ints)).toThrow(/dtype I64/);
    try {
      readSafetensors(join(dir, 'absent.safetensors'));
      expect.unreachable();
    } catch (error) {
      expect((error as { file: string }).file).toBe(join(dir, 'absent.safetensors'));
      expect((error as { code: string }).code).toBe('not-found');
    }
  });
});
