import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    // tfjs-wasm and sharp keep native state per process; forks isolate them cleanly.
    pool: 'forks',
    // Two files at once even on two cores (vitest's default there is one): browser files mostly wait
    // on Chromium and the server, and overlap well with the CPU-bound ones. Every file uses its own
    // temporary folders, free port and workspace, so files do not share anything they write.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Writes each synthetic sample once per run for the tests to copy (tests/fixtures/sample-cache.ts).
    globalSetup: ['tests/fixtures/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // expect.poll's default of 1 s is shorter than one answer of a busy server on a loaded machine (a
    // click, a request, a locked write, a re-render): polls wait up to 15 s unless a test says otherwise.
    expect: { poll: { timeout: 15_000 } },
  },
});
