import { describe, expect, it } from 'vitest';
import { copyRuns, heapIndex } from '../../../../../src-main/engine/backend/wasm-kernels/strided-copy';

/** The same copy, one element at a time: what copyRuns must equal. */
function reference(heap: Float32Array, from: number, fromStride: number, to: number, toStride: number, run: number, count: number): Float32Array {
  const out = heap.slice();
  for (let r = 0; r < count; r++) for (let i = 0; i < run; i++) out[to + r * toStride + i] = heap[from + r * fromStride + i]!;
  return out;
}

describe('copyRuns', () => {
  it.each([
    ['short runs (element loop)', 3, 7, 500, 5, 3, 40],
    ['long runs (copyWithin)', 0, 300, 4000, 256, 256, 9],
    ['channel rows (copyWithin)', 5, 48, 3000, 16, 16, 50],
    ['one long run', 10, 0, 2000, 0, 1000, 1],
    ['empty runs', 0, 4, 100, 0, 0, 10],
  ])('%s: equal to an element-by-element copy, nothing else written', (_, from, fromStride, to, toStride, run, count) => {
    const heap = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i) * 1000);
    const expected = reference(heap, from, fromStride, to, toStride, run, count);
    copyRuns(heap, from, fromStride, to, toStride, run, count);
    expect(heap).toEqual(expected);
  });

  it('indexes a view of a larger buffer within the whole buffer', () => {
    const buffer = new ArrayBuffer(4 * 100);
    const view = new Float32Array(buffer, 4 * 30, 10);
    const { heap, at } = heapIndex(view);
    expect(heap.length).toBe(100);
    expect(at).toBe(30);
    heap[at] = 5;
    expect(view[0]).toBe(5);
  });
});
