import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src-main/engine/backend/select-backend';
import type { GpuAdapterInfo } from '../../../../src-main/engine/backend/webgpu-adapter';
import { checkAdapterLimits, largestActivation } from '../../../../src-main/engine/backend/webgpu-limits';
import { CovsegError } from '../../../../src-main/engine/errors';
import { buildUnet } from '../../../../src-main/engine/models/unet/unet';

/** An adapter description as Dawn reports it, with chosen limits (bytes). */
function adapterWithLimit(bytes: number, maxBufferSize = bytes): GpuAdapterInfo {
  return { vendor: 'test', architecture: 'small', description: 'a GPU with small buffers', software: false, limits: { maxStorageBufferBindingSize: bytes, maxBufferSize } };
}

function limitError(run: () => void): CovsegError {
  try {
    run();
  } catch (error) {
    return error as CovsegError;
  }
  throw new Error('expected the limit check to fail');
}

describe('WebGPU buffer limits', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('finds the largest layer output at the given size: the U-Net\'s top concat', () => {
    const model = buildUnet({ depth: 2, baseFilters: 4 });
    // up0_concat is [size, size, 2 * baseFilters] float32.
    expect(largestActivation(model, 64)).toEqual({ layer: 'up0_concat', bytesPerImage: 64 * 64 * 8 * 4 });
    expect(largestActivation(model, 128).bytesPerImage).toBe(128 * 128 * 8 * 4);
    model.dispose();
  });

  it('accepts a batch that fits exactly and names the largest batch that fits when it does not', () => {
    const model = buildUnet({ depth: 2, baseFilters: 4 });
    const perImage = 64 * 64 * 8 * 4;
    expect(() => checkAdapterLimits(adapterWithLimit(8 * perImage), model, 8, 64, 4)).not.toThrow();
    const error = limitError(() => checkAdapterLimits(adapterWithLimit(8 * perImage), model, 9, 64, 4));
    expect(error).toBeInstanceOf(CovsegError);
    expect(error.code).toBe('bad-parameter');
    expect(error.message).toContain('batch 9 at 64 px');
    expect(error.message).toContain('up0_concat');
    expect(error.message).toContain('a GPU with small buffers');
    expect(error.fix).toBe('use --batch 8 or less at 64 px');
    model.dispose();
  });

  it('takes the smaller of the two limits and suggests a size (a multiple of the model\'s) when one image does not fit', () => {
    const model = buildUnet({ depth: 2, baseFilters: 4 });
    const limit = 100_000;
    const error = limitError(() => checkAdapterLimits(adapterWithLimit(10 ** 9, limit), model, 2, 64, 4));
    const suggested = Number(/--size (\d+)/.exec(error.fix ?? '')?.[1]);
    expect(suggested % 4).toBe(0);
    expect(() => checkAdapterLimits(adapterWithLimit(limit), model, 1, suggested, 4)).not.toThrow();
    expect(() => checkAdapterLimits(adapterWithLimit(limit), model, 1, suggested + 4, 4)).toThrow(CovsegError);
    model.dispose();
  });
});
