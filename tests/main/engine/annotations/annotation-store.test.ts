import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnotationStore, annotationStoreDir, sliceFolderName } from '../../../../src-main/engine/annotations/annotation-store';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { tempDir } from '../../../fixtures/temp-dir';

const REPO = resolve(import.meta.dirname, '../../../..');
const map = (width: number, height: number, fill: (i: number) => number) => ({ width, height, labels: Uint8Array.from({ length: width * height }, (_, i) => fill(i)) });
const manual = { tool: 'brush', source: 'manual' as const, status: 'corrected' as const, author: 'tester' };

describe('annotation store', () => {
  it('keeps every version with who, tool and source; current is the newest; revert adds a version', async () => {
    const workspace = await tempDir();
    const store = await AnnotationStore.open(workspace, '/data/ct');
    expect(store.dir.startsWith(join(workspace, 'annotations'))).toBe(true);
    expect(await store.current('vol:z001')).toBeUndefined();
    const first = map(4, 3, (i) => (i < 3 ? 1 : 0));
    const second = map(4, 3, (i) => (i % 2 ? 2 : 0));
    expect((await store.save('vol:z001', first, 0, { ...manual, source: 'prediction', status: 'predicted', runId: 'run-a' })).version).toBe(1);
    const v2 = await store.save('vol:z001', second, 1, { ...manual, tool: 'lasso' });
    expect(v2).toMatchObject({ version: 2, tool: 'lasso', author: 'tester', status: 'corrected', counts: [0, 6] });
    const current = await store.current('vol:z001');
    expect(current?.label.labels).toEqual(second.labels);
    expect(current?.history.map((h) => [h.version, h.source, h.runId])).toEqual([[1, 'prediction', 'run-a'], [2, 'manual', undefined]]);
    const reverted = await store.revert('vol:z001', 1, 2);
    expect(reverted).toMatchObject({ version: 3, source: 'revert', status: 'predicted' });
    expect((await store.current('vol:z001'))?.label.labels).toEqual(first.labels);
    expect((await store.read((await store.history('vol:z001'))[1]!)).labels).toEqual(second.labels);
    expect(await store.slicesWithVersions()).toEqual(['vol:z001']);
    expect(sliceFolderName('../x:y.png')).not.toMatch(/[/:]|^\./);
  });

  it('refuses a save that did not start from the current version (another window saved): nothing is overwritten', async () => {
    const workspace = await tempDir();
    const a = await AnnotationStore.open(workspace, '/data/ct');
    const b = await AnnotationStore.open(workspace, '/data/ct');
    await a.save('s1', map(2, 2, () => 1), 0, manual);
    // Both windows loaded version 1; the first to save wins, the second is told.
    await a.save('s1', map(2, 2, () => 2), 1, manual);
    await expect(b.save('s1', map(2, 2, () => 0), 1, manual)).rejects.toMatchObject({ code: 'busy', message: expect.stringMatching(/saved elsewhere/) });
    // Racing saves from the same base: exactly one commits.
    const results = await Promise.allSettled([a.save('s1', map(2, 2, () => 0), 2, manual), b.save('s1', map(2, 2, () => 1), 2, manual)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await a.history('s1')).map((h) => h.version)).toEqual([1, 2, 3]);
  });

  it('refuses values other than 0, 1, 2 and a wrong byte count; a damaged newest blob falls back to the version before', async () => {
    const workspace = await tempDir();
    const store = await AnnotationStore.open(workspace, '/data/ct');
    await expect(store.save('s', map(2, 2, () => 3), 0, manual)).rejects.toMatchObject({ code: 'bad-parameter' });
    await expect(store.save('s', { width: 3, height: 3, labels: new Uint8Array(4) }, 0, manual)).rejects.toMatchObject({ code: 'size-mismatch' });
    await store.save('s', map(2, 2, () => 1), 0, manual);
    const newest = await store.save('s', map(2, 2, () => 2), 1, manual);
    await writeFile(join(store.dir, 'blobs', `${newest.sha256}.u8.gz`), 'garbage');
    const current = await store.current('s');
    expect(current?.entry.version).toBe(1);
    expect(Array.from(current!.label.labels)).toEqual([1, 1, 1, 1]);
    expect(annotationStoreDir(workspace, '/data/ct')).toBe(store.dir);
  });

  it('kill -9 at random moments while a real child process saves loses no committed version and leaves every slice readable', async () => {
    const workspace = await tempDir();
    const random = createRandom(7);
    const storeModule = join(REPO, 'src-main/engine/annotations/annotation-store.ts');
    // The child saves versions of 3 slices in a loop (512x512, like a real slice) and prints each
    // version once save() has returned: that is what the app counts as saved.
    const script = `
      import { AnnotationStore } from ${JSON.stringify(storeModule)};
      const store = await AnnotationStore.open(${JSON.stringify(workspace)}, '/data/ct');
      const ids = ['a', 'b:z001', 'c'];
      for (let n = 0; ; n++) {
        const id = ids[n % 3];
        const base = (await store.history(id)).at(-1)?.version ?? 0;
        const labels = new Uint8Array(512 * 512).fill((base + 1) % 3);
        labels[base % labels.length] = 2;
        await store.save(id, { width: 512, height: 512, labels }, base, { tool: 'brush', source: 'manual', status: 'corrected', author: 'kill-test' });
        process.stdout.write(id + ' ' + (base + 1) + '\\n');
      }`;
    const saved = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      // Wait for the first save, then kill at a random moment of the following ones.
      await new Promise<void>((done, fail) => {
        const timer = setInterval(() => {
          if (out.length > 0) {
            clearInterval(timer);
            done();
          }
        }, 20);
        child.on('exit', () => fail(new Error(`child exited early: ${err}`)));
      });
      await new Promise((done) => setTimeout(done, 50 + random.next() * 400));
      child.kill('SIGKILL');
      await new Promise((done) => child.once('close', done));
      for (const line of out.split('\n').filter((l) => /^\S+ \d+$/.test(l))) {
        const [id, version] = line.split(' ') as [string, string];
        saved.set(id, Math.max(saved.get(id) ?? 0, Number(version)));
      }
      const store = await AnnotationStore.open(workspace, '/data/ct');
      for (const [id, version] of saved) {
        const history = await store.history(id);
        // Every version the child reported is there, each readable and matching its hash.
        expect(history.at(-1)!.version).toBeGreaterThanOrEqual(version);
        for (const entry of history) {
          const { labels } = await store.read(entry);
          expect(labels[(entry.version - 1) % labels.length]).toBe(2);
        }
        expect(history.map((h) => h.version)).toEqual(history.map((_, k) => k + 1));
      }
    }
    expect([...saved.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    // Only temporary files of interrupted writes may be left; they never look like versions.
    const leftovers = (await readdir(join(annotationStoreDir(workspace, '/data/ct'), 'blobs'))).filter((n) => n.endsWith('.tmp'));
    for (const name of leftovers) expect(name).toMatch(/\.u8\.gz\.[0-9a-f]+\.tmp$/);
    expect(JSON.parse(await readFile(join(annotationStoreDir(workspace, '/data/ct'), 'store.json'), 'utf8')).root).toBe(resolve('/data/ct'));
  }, 120_000);
});
