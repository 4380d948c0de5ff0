import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GanListItem, GanProgress, GanSplitOption } from '../../../src-shared/contract';
import { openDataset } from '../../../src-main/engine/datasets/open-dataset';
import { scanDataset } from '../../../src-main/engine/datasets/scan-dataset';
import { splitDataset, writeSplit } from '../../../src-main/engine/datasets/split-dataset';
import { processAlive } from '../../../src-main/engine/concurrency/process-alive';
import { readGanRecord } from '../../../src-main/engine/gan/gan-record';
import { createAppServices, type AppServices } from '../../../src-main/services/app-services';
import { tempDir } from '../../fixtures/temp-dir';
import { tinySample } from '../../fixtures/tiny-sample';

/** A GAN that takes a few steps per epoch at 32 px, with more epochs than the test waits for. */
const TINY = { kind: 'pix2pix', size: 32, batch: 2, filters: 4, epochs: 200 } as const;

interface Harness {
  services: AppServices;
  events: GanProgress[];
  call<T>(channel: string, request: unknown): Promise<T>;
}

const opened: AppServices[] = [];
const pids: number[] = [];

function harness(workspace: string, data: string): Harness {
  const events: GanProgress[] = [];
  const services = createAppServices({ transport: 'http', workspace, allowedRoots: [data], emit: (channel, payload) => channel === 'gan:progress' && events.push(payload as GanProgress) });
  opened.push(services);
  return {
    services,
    events,
    async call<T>(channel: string, request: unknown): Promise<T> {
      const result = await services.dispatch(channel, request);
      if (!result.ok) throw new Error(`${channel}: ${result.error.message}${result.error.details?.fix ? ` (fix: ${result.error.details.fix})` : ''}`);
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

afterEach(() => {
  // GAN trainings outlive their service by design: end any a failed test left behind.
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already ended.
    }
  }
  opened.splice(0).forEach((s) => s.dispose());
});

describe('GanService', () => {
  it('trains on a chosen split file, is followed again after a restart (losses, progress) and cancels from the new service', async () => {
    const data = await tinySample(24, 64);
    const workspace = await tempDir();
    const splitsDir = join(workspace, 'splits');
    await mkdir(splitsDir, { recursive: true });
    const dataset = await openDataset(data);
    const scan = await scanDataset(dataset);
    const mine = join(splitsDir, 'mine-seed3.json');
    await writeSplit(mine, splitDataset(scan.summaries, { root: dataset.root, format: dataset.format, contentHash: scan.contentHash }, { val: 0.25, test: 0.15, seed: 3 }));
    // A split of other data (its content hash differs) is neither offered nor accepted.
    const other = join(splitsDir, 'other.json');
    await writeFile(other, JSON.stringify({ ...JSON.parse(await readFile(mine, 'utf8')), dataset: { root: '/elsewhere', format: 'kaggle-png', contentHash: 'f'.repeat(64), slices: 24 } }));

    const first = harness(workspace, data);
    const { id: datasetId } = await first.call<{ id: string }>('datasets:open', { path: data });
    const splits = await first.call<GanSplitOption[]>('gan:listSplits', { datasetId });
    expect(splits.map((s) => s.name)).toEqual(['mine-seed3.json']);
    expect(splits[0]!.sha256).toBe(createHash('sha256').update(await readFile(mine)).digest('hex'));
    await expect(first.call('gan:startTraining', { datasetId, ...TINY, splitFile: other })).rejects.toThrow(/made from other data/);
    await expect(first.call('gan:startTraining', { datasetId, ...TINY, splitFile: '/etc/hostname' })).rejects.toThrow(/outside the folders the app may read/);

    const { ganId } = await first.call<{ ganId: string }>('gan:startTraining', { datasetId, ...TINY, splitFile: mine });
    const jobs = JSON.parse(await readFile(join(workspace, 'jobs', 'gan-jobs.json'), 'utf8')) as { ganId: string; pid: number }[];
    expect(jobs.map((j) => j.ganId)).toEqual([ganId]);
    const pid = jobs[0]!.pid;
    pids.push(pid);
    await until(() => first.events.some((e) => e.ganId === ganId && e.kind === 'epoch'), 'a first epoch');
    // The GAN record names the chosen split and the hash of its bytes: the leakage guard's reference.
    const record = await readGanRecord(join(workspace, 'gans', ganId));
    expect(record.split).toMatchObject({ file: mine, sha256: splits[0]!.sha256 });

    // The server goes away; the training goes on, and a new service on the workspace follows it again.
    first.services.dispose();
    const second = harness(workspace, data);
    const listed = (await second.call<GanListItem[]>('gan:listGans', {})).find((g) => g.ganId === ganId);
    // Lines that arrived after the new service caught up but before this listing are both in the list
    // and pushed already; what counts is that everything pushed after the listing is new.
    const pushedBeforeListing = second.events.length;
    expect(listed).toMatchObject({ state: 'running', split: { file: mine, sha256: splits[0]!.sha256 } });
    // The curve so far comes with the list (read back from the progress file), for a window opened now.
    expect(listed!.batchLosses!.length).toBeGreaterThanOrEqual(2);
    expect(listed!.batchLosses!.every((p) => Number.isFinite(p.gLoss) && Number.isFinite(p.dLoss))).toBe(true);
    const seenBefore = Math.max(...listed!.batchLosses!.map((p) => p.x));
    // Only new progress is pushed, and it keeps coming.
    const pushedAfterListing = () => second.events.slice(pushedBeforeListing).find((e) => e.kind === 'batch' && e.ganId === ganId);
    await until(() => pushedAfterListing() !== undefined, 'batch losses pushed by the new service');
    const firstPushed = pushedAfterListing()!;
    expect(firstPushed.kind === 'batch' && firstPushed.epoch - 1 + firstPushed.batch / firstPushed.batches).toBeGreaterThan(seenBefore);
    await until(() => second.events.some((e) => e.kind === 'epoch'), 'an epoch followed by the new service');

    await second.call('gan:cancelTraining', { ganId });
    await until(() => second.events.some((e) => e.kind === 'status' && e.state === 'cancelled'), 'the cancel noticed');
    expect(processAlive(pid)).toBe(false);
    expect((await second.call<GanListItem[]>('gan:listGans', {})).find((g) => g.ganId === ganId)).toMatchObject({ state: 'cancelled' });
    expect(JSON.parse(await readFile(join(workspace, 'jobs', 'gan-jobs.json'), 'utf8'))).toEqual([]);
  });
});
