import { Worker } from 'node:worker_threads';

/**
 * Starts a worker from a module next to `from` (an `import.meta.url`): the `.ts` file through a tsx
 * bootstrap when running from sources, the `.js` file when running from a build.
 */
export function startWorker(relativePath: string, from: string): Worker {
  if (from.endsWith('.ts')) {
    const entry = new URL(`${relativePath}.ts`, from).href;
    return new Worker(new URL('./ts-worker-bootstrap.mjs', import.meta.url), { workerData: { tsEntry: entry } });
  }
  return new Worker(new URL(`${relativePath}.js`, from));
}
