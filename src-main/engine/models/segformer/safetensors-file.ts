import { readFileSync } from 'node:fs';
import { CovsegError } from '../../errors';

/** One tensor of a safetensors file, as float32 whatever its stored dtype. */
export interface SafeTensor {
  shape: number[];
  dtype: string;
  values: Float32Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(bytes: Uint8Array, dtype: string, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else {
    // bfloat16 is the upper half of a float32.
    const word = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      word.setUint32(0, view.getUint16(2 * i, true) << 16, true);
      out[i] = word.getFloat32(0, true);
    }
  }
  return out;
}

/**
 * Reads a safetensors file (Hugging Face's format: an 8-byte little-endian header length, a JSON
 * header mapping each name to dtype, shape and byte offsets, then the raw little-endian data).
 * Float tensors (F32, F16, BF16) are returned as float32. Nothing in the file is executed; every
 * offset and size is checked, and a damaged file fails naming it.
 */
export function readSafetensors(file: string): Map<string, SafeTensor> {
  let buffer: Buffer;
  try {
    buffer = readFileSync(file);
  } catch (error) {
    throw new CovsegError('not-found', `cannot read the weights file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      file,
      fix: 'give --pretrained the path of a model.safetensors file',
    });
  }
  const damaged = (why: string) =>
    new CovsegError('corrupt-file', `not a valid safetensors file: ${why}`, { file, fix: 'download the checkpoint again (model.safetensors of nvidia/mit-b0 or mit-b1)' });
  if (buffer.byteLength < 8) throw damaged('shorter than its 8-byte header length');
  const headerLength = Number(buffer.readBigUInt64LE(0));
  if (headerLength < 2 || 8 + headerLength > buffer.byteLength) throw damaged(`header length ${headerLength} does not fit the file (${buffer.byteLength} bytes)`);
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8'));
  } catch {
    throw damaged('its header is not JSON');
  }
  const dataStart = 8 + headerLength;
  const dataLength = buffer.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!dtype || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) throw damaged(`tensor "${name}" lacks dtype, shape or data_offsets`);
    const width = BYTES[dtype];
    if (!width) throw damaged(`tensor "${name}" has dtype ${dtype}; only F32, F16 and BF16 weights are read`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offsets;
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end <= dataLength && end - begin === count * width)) {
      throw damaged(`tensor "${name}" (shape [${shape.join(', ')}], ${dtype}) has byte range [${begin}, ${end}) outside the data or of the wrong size`);
    }
    tensors.set(name, { shape, dtype, values: decode(buffer.subarray(dataStart + begin, dataStart + end), dtype, count) });
  }
  return tensors;
}
