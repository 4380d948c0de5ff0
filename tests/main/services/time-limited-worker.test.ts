import { afterEach, describe, expect, it } from 'vitest';
import { startWorker } from '../../../src-main/engine/concurrency/start-worker';
import { TimeLimitedWorker } from '../../../src-main/services/time-limited-worker';

type Job = { spinMs: number; fail?: string };
const workers: TimeLimitedWorker<Job, { ranMs: number }>[] = [];

function busyWorker(limitMs: number) {
  const worker = new TimeLimitedWorker<Job, { ranMs: number }>(() => startWorker('../../fixtures/busy-worker', import.meta.url), limitMs, 'the test job');
  workers.push(worker);
  return worker;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.dispose()));
});

describe('TimeLimitedWorker', () => {
  it('stops a job over its limit with a timeout error, while the event loop keeps running, and serves the next job', async () => {
    const worker = busyWorker(300);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const error = await worker.run({ spinMs: 60_000 }).catch((e: unknown) => e);
    clearInterval(ticker);
    expect(error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/took longer than 0\.30 s and was stopped/) });
    // The loop spun in the worker: this thread kept firing timers meanwhile.
    expect(ticks).toBeGreaterThan(3);
    await expect(worker.run({ spinMs: 1 })).resolves.toMatchObject({ ranMs: expect.any(Number) });
  });

  it('runs jobs one after another and passes errors through with their fix', async () => {
    const worker = busyWorker(5_000);
    const [a, b] = await Promise.all([worker.run({ spinMs: 30 }), worker.run({ spinMs: 30 })]);
    expect(a.ranMs).toBeGreaterThanOrEqual(30);
    expect(b.ranMs).toBeGreaterThanOrEqual(30);
    await expect(worker.run({ spinMs: 0, fail: 'too much' })).rejects.toMatchObject({ code: 'bad-parameter', message: 'too much', fix: 'ask for less' });
  });
});
