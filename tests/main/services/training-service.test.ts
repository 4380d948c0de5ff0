import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail, RunListItem, TrainingLaunch, TrainingProgress } from '../../../src-shared/contract';
import { TASK_DEFAULT_LOSS } from '../../../src-shared/contract/training';
import { TASK_LOSSES } from '../../../src-main/engine/training/train-config';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

/** A tiny U-Net on 32 px: each epoch is a couple of steps. */
const TINY = { size: 32, depth: 2, baseFilters: 4, batch: 4, val: 0.25, test: 0.2 };

interface Harness {
  services: AppServices;
  events: TrainingProgress[];
  call<T>(channel: string, request: unknown): Promise<T>;
}

const opened: AppServices[] = [];
const pids: number[] = [];

function harness(workspace: string, data: string, maxTrainings = 1): Harness {
  const events: TrainingProgress[] = [];
  const services = createAppServices({ transport: 'http', workspace, allowedRoots: [data], maxTrainings, emit: (_channel, payload) => events.push(payload as TrainingProgress) });
  opened.push(services);
  return {
    services,
    events,
    async call<T>(channel: string, request: unknown): Promise<T> {
      const result = await services.dispatch(channel, request);
      if (!result.ok) throw new Error(`${channel}: ${result.error.message}`);
      return result.value as T;
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const statusOf = (h: Harness, runId: string) => h.events.filter((e) => e.runId === runId && e.kind === 'status').map((e) => (e.kind === 'status' ? e.state : ''));
const epochsSeen = (h: Harness, runId: string) => h.events.filter((e) => e.runId === runId && e.kind === 'epoch').length;

afterEach(async () => {
  // Trainings outlive their service by design: end any a failed test left behind.
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already ended.
    }
  }
  opened.splice(0).forEach((s) => s.dispose());
});

async function pidOf(workspace: string, runId: string): Promise<number> {
  const jobs = JSON.parse(await readFile(join(workspace, 'jobs', 'jobs.json'), 'utf8')) as { runId: string; pid?: number }[];
  const pid = jobs.find((job) => job.runId === runId)?.pid;
  if (pid === undefined) throw new Error(`no pid for ${runId}`);
  pids.push(pid);
  return pid;
}

describe('TrainingService', () => {
  it('queues beyond the limit, outlives its service, re-attaches after a restart, reports a kill as interrupted, cancels and resumes', async () => {
    const data = await tinySample(12, 64);
    const workspace = await tempDir();
    const first = harness(workspace, data, 1);
    const { id: datasetId } = await first.call<{ id: string }>('datasets:open', { path: data });

    // Limit 1: the first trains, the others queue in order.
    const a = await first.call<TrainingLaunch>('training:start', { datasetId, ...TINY, epochs: 40 });
    // The same request again (a double click, a second window) is refused, naming the run it would repeat.
    await expect(first.call('training:start', { datasetId, ...TINY, epochs: 40 })).rejects.toThrow(`an identical training is already running: ${a.runId}`);
    const b = await first.call<TrainingLaunch>('training:start', { datasetId, ...TINY, epochs: 40, seed: 2 });
    const c = await first.call<TrainingLaunch>('training:start', { datasetId, ...TINY, epochs: 1 });
    expect(a).toMatchObject({ state: 'running' });
    expect(b).toMatchObject({ state: 'queued', position: 1 });
    expect(c).toMatchObject({ state: 'queued', position: 2 });
    const pidA = await pidOf(workspace, a.runId);
    const queued = (await first.call<RunListItem[]>('runs:list', {})).filter((r) => r.state === 'queued');
    expect(queued.map((r) => [r.runId, r.queuePosition]).sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual([
      [b.runId, 1],
      [c.runId, 2],
    ]);

    // A queued run taken off the queue never runs.
    await first.call('training:cancel', { runId: c.runId });
    expect(statusOf(first, c.runId).at(-1)).toBe('cancelled');
    expect((await first.call<RunListItem[]>('runs:list', {})).some((r) => r.runId === c.runId)).toBe(false);
    await until(async () => ((await first.call<RunListItem[]>('runs:list', {})).find((r) => r.runId === a.runId)?.epoch ?? 0) >= 1, 'an epoch of A on disk');

    // The server goes away (restart): A is not its child on a pipe and keeps training; the queue is kept.
    first.services.dispose();
    const second = harness(workspace, data, 1);
    const afterRestart = await second.call<RunListItem[]>('runs:list', {});
    expect(afterRestart.find((r) => r.runId === a.runId)?.state).toBe('running');
    expect(afterRestart.find((r) => r.runId === b.runId)).toMatchObject({ state: 'queued', queuePosition: 1 });
    await until(() => epochsSeen(second, a.runId) >= 1, 'A progress followed by the new service');
    expect(() => process.kill(pidA, 0)).not.toThrow();

    // A hard kill (power cut, OOM killer): A reads as interrupted, not "running" forever, and B starts.
    process.kill(pidA, 'SIGKILL');
    await until(() => statusOf(second, a.runId).at(-1) === 'cancelled', 'the kill noticed');
    expect(second.events.filter((e) => e.runId === a.runId && e.kind === 'status').at(-1)).toMatchObject({ message: expect.stringMatching(/interrupted/) });
    const killed = (await second.call<RunListItem[]>('runs:list', {})).find((r) => r.runId === a.runId)!;
    expect(killed).toMatchObject({ state: 'cancelled', message: expect.stringMatching(/interrupted/) });
    await until(() => statusOf(second, b.runId).includes('running'), 'B started from the queue');
    await pidOf(workspace, b.runId);

    // Cancel while training: B stops after its batch, cleanly cancelled (no "interrupted").
    await until(() => epochsSeen(second, b.runId) >= 1, 'an epoch of B');
    await second.call('training:cancel', { runId: b.runId });
    await until(() => statusOf(second, b.runId).at(-1) === 'cancelled', 'B cancelled');
    expect((await second.call<RunListItem[]>('runs:list', {})).find((r) => r.runId === b.runId)?.message).toBeUndefined();

    // Resume A through the contract, one epoch beyond what it had finished.
    const resumed = await second.call<TrainingLaunch>('training:resume', { runId: a.runId, epochs: killed.epoch + 1 });
    expect(resumed).toMatchObject({ runId: a.runId, state: 'running' });
    await pidOf(workspace, a.runId);
    await until(() => statusOf(second, a.runId).at(-1) === 'completed', 'the resumed run completed');
    const detail = await second.call<RunDetail>('runs:get', { runId: a.runId });
    expect(detail.state).toBe('completed');
    expect(detail.epoch).toBe(killed.epoch + 1);
    expect([...new Set(detail.metrics.map((m) => m.epoch))]).toEqual(Array.from({ length: killed.epoch + 1 }, (_, k) => k + 1));
    const again = await second.services.dispatch('training:resume', { runId: a.runId });
    expect(again).toMatchObject({ ok: false, error: { message: expect.stringMatching(/is complete/) } });
  });

  it('trains a request without a loss with its task’s default loss (ce+dice for three classes), the one the engine lists first', async () => {
    for (const task of ['lesion', 'ggo-consolidation'] as const) expect(TASK_LOSSES[task][0]).toBe(TASK_DEFAULT_LOSS[task]);
    const data = await tinySample(12, 64);
    const workspace = await tempDir();
    const h = harness(workspace, data, 1);
    const { id: datasetId } = await h.call<{ id: string }>('datasets:open', { path: data });
    const launch = await h.call<TrainingLaunch>('training:start', { datasetId, ...TINY, classes: 'ggo-consolidation', epochs: 1 });
    await pidOf(workspace, launch.runId);
    await until(() => ['completed', 'failed'].includes(statusOf(h, launch.runId).at(-1) ?? ''), 'the run to end');
    const detail = await h.call<RunDetail>('runs:get', { runId: launch.runId });
    expect(detail.state).toBe('completed');
    expect(detail.config).toMatchObject({ loss: 'ce+dice', classes: 'ggo-consolidation' });
  });

  it('on start, drops jobs whose process is gone or whose pid now belongs to another program', async () => {
    const workspace = await tempDir();
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const summary = { createdAt: new Date().toISOString(), model: 'unet', loss: 'bce', dataset: '/data', epochs: 1 };
    await mkdir(join(workspace, 'jobs'), { recursive: true });
    await writeFile(
      join(workspace, 'jobs', 'jobs.json'),
      JSON.stringify([
        { runId: 'run-gone', args: ['train'], summary, state: 'running', pid: gone },
        // A live pid that is not this run's training (pids are reused): this test process itself.
        { runId: 'run-reused', args: ['train'], summary, state: 'running', pid: process.pid },
      ]),
    );
    const h = harness(workspace, workspace);
    const listed = await h.call<RunListItem[]>('runs:list', {});
    expect(listed).toEqual([]);
    expect(JSON.parse(await readFile(join(workspace, 'jobs', 'jobs.json'), 'utf8'))).toEqual([]);
    expect((await h.services.dispatch('training:cancel', { runId: 'run-reused' })).ok).toBe(false);
  });
});
