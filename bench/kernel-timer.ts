import * as tf from '@tensorflow/tfjs-core';

/** Starts a measurement; the function it returns gives the milliseconds since. */
export type Clock = () => () => number;

export const wallClock: Clock = () => {
  const start = performance.now();
  return () => performance.now() - start;
};

/** This process's CPU time (all threads): the measure that load from other work does not inflate. */
export const cpuClock: Clock = () => {
  const start = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
};

/**
 * Re-registers every wasm kernel so its calls are timed with `clock`, per kernel name: [milliseconds,
 * calls]. Kernels called from inside another (composed kernels) count towards their caller only.
 * Returns `take`, which hands over what was timed since the last take and starts afresh.
 */
export function timeTopLevelKernels(clock: Clock): () => Map<string, [number, number]> {
  let times = new Map<string, [number, number]>();
  let depth = 0;
  for (const k of tf.getKernelsForBackend('wasm')) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (depth > 0) return k.kernelFunc(args);
        depth++;
        const elapsed = clock();
        try {
          return k.kernelFunc(args);
        } finally {
          depth--;
          const [ms, calls] = times.get(k.kernelName) ?? [0, 0];
          times.set(k.kernelName, [ms + elapsed(), calls + 1]);
        }
      },
    });
  }
  return () => {
    const taken = times;
    times = new Map();
    return taken;
  };
}
