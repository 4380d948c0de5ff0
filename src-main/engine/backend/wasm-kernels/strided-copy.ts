/**
 * Copies `count` runs of `run` floats within one heap array: run `r` from `from + r * fromStride` to
 * `to + r * toStride` (indices in floats). Concat and SplitV copy one run per outer row; a
 * `subarray` view per row (the obvious `target.set(source.subarray(...))`) made ~170,000 short-lived
 * objects per 128-px U-Net step, garbage that kept V8's scavenger busy on both training threads.
 * Runs are copied by `copyWithin` (memmove inside the one buffer), the shortest element by element,
 * neither allocating.
 */
export function copyRuns(heap: Float32Array, from: number, fromStride: number, to: number, toStride: number, run: number, count: number): void {
  if (run >= LONG_RUN) {
    for (let r = 0; r < count; r++) heap.copyWithin(to + r * toStride, from + r * fromStride, from + r * fromStride + run);
    return;
  }
  for (let r = 0; r < count; r++) {
    const s = from + r * fromStride;
    const t = to + r * toStride;
    for (let i = 0; i < run; i++) heap[t + i] = heap[s + i]!;
  }
}

/**
 * From this many floats on, one `copyWithin` call costs less than a JavaScript loop (measured: at
 * 16-64-float runs `copyWithin` copies 2-2.5x faster than the old per-row views, the loop not at all).
 */
const LONG_RUN = 16;

/** The whole wasm heap as floats, and where `view` (a float32 view of that heap) starts in it. */
export function heapIndex(view: Float32Array): { heap: Float32Array; at: number } {
  return { heap: new Float32Array(view.buffer, 0, view.buffer.byteLength >> 2), at: view.byteOffset >> 2 };
}
