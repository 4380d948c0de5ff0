/**
 * `npm run test:faults`: the standing fault suite. Real `covseg train` child processes on a tiny
 * synthetic dataset are killed with SIGKILL at seeded random moments (and the moment a checkpoint is
 * being written), resumed, raced by a second writer, and run out of disk on a real tmpfs. After every
 * fault the run folder is checked against what must never be lost. A running `covseg serve` is then
 * sent an oversized transform parameter and a NIfTI gzip bomb under a time and memory ceiling. The
 * suite ends with a table (cases tried, survived, data lost) and exits 1 unless every case survived
 * with nothing lost.
 *
 * Options: `--seed N` (default 1), `--kills N` kill-and-resume rounds (default 6).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createReadStream, createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { formatTable } from '../../src-main/cli/output';
import { writeSyntheticSample } from '../../src-main/engine/datasets/synthetic/write-sample';
import { createRandom } from '../../src-main/engine/random/seeded-random';
import { writeNifti } from '../fixtures/nifti-writer';
import { mountSmallDisk } from '../fixtures/tmpfs';

const BIN = resolve(import.meta.dirname, '../../bin/covseg.mjs');
// One worker: the reference run and the killed-and-resumed run must be bit-comparable.
const TINY = ['--size', '32', '--depth', '2', '--base-filters', '4', '--batch', '4', '--backend', 'wasm', '--workers', '1', '--seed', '3'];
const EPOCHS = 16;
// Ceilings for the served requests: generous for a shared 2-core machine, far below what the attacks would cost unchecked.
const REFUSE_WITHIN_MS = 5000;
const BOMB_WITHIN_MS = 20000;
const BOMB_ZEROS = 96 * 2 ** 20;
const RSS_CEILING_MB = 300;

interface CaseResult {
  name: string;
  tried: number;
  survived: number;
  dataLost: number;
  notes: string[];
}

interface Child {
  process: ChildProcess;
  exited: () => boolean;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function argValue(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

let env: NodeJS.ProcessEnv = process.env;

function covseg(args: string[]): Child {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  let exited = false;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    child.once('exit', (code, signal) => {
      exited = true;
      r({ code, signal, stderr });
    }),
  );
  return { process: child, exited: () => exited, exit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Content hash of every file under `dir` (names and bytes): an input must hash the same before and after. */
async function hashTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      hash.update(path);
      if (entry.isDirectory()) await walk(path);
      else hash.update(await readFile(path));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Problems of a checkpoint folder a pointer refers to: every file present, optimizer state of the recorded size. */
async function checkpointProblems(runDir: string, which: 'last' | 'best'): Promise<string[]> {
  const pointer = await readJson<{ dir: string; epoch: number }>(join(runDir, 'checkpoints', `${which}.json`));
  if (!pointer) return existsSync(join(runDir, 'checkpoints', `${which}.json`)) ? [`${which}.json unreadable`] : [];
  const dir = join(runDir, 'checkpoints', pointer.dir);
  const problems: string[] = [];
  for (const name of ['model.json', 'weights.bin', 'optimizer.bin', 'trainer-state.json']) if (!existsSync(join(dir, name))) problems.push(`${which} -> ${pointer.dir}/${name} missing`);
  const state = await readJson<{ epoch: number; optimizer: { sizes: number[] } }>(join(dir, 'trainer-state.json'));
  if (state && state.epoch !== pointer.epoch) problems.push(`${which} says epoch ${pointer.epoch}, its state ${state.epoch}`);
  if (state && existsSync(join(dir, 'optimizer.bin'))) {
    const expected = state.optimizer.sizes.reduce((n, s) => n + 2 * s, 0) * 4;
    if ((await stat(join(dir, 'optimizer.bin'))).size !== expected) problems.push(`${which} optimizer.bin has the wrong size`);
  }
  return problems;
}

/** Files no finished run may hold: temporary files, the lock, checkpoint folders no pointer names. */
async function leftovers(runDir: string): Promise<string[]> {
  const found: string[] = [];
  const pointed = new Set<string>();
  for (const which of ['last', 'best']) {
    const p = await readJson<{ dir: string }>(join(runDir, 'checkpoints', `${which}.json`));
    if (p) pointed.add(p.dir);
  }
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.name.endsWith('.tmp') || entry.name === '.lock') found.push(path);
      if (entry.isDirectory()) {
        if (folder.endsWith('checkpoints') && !pointed.has(entry.name)) found.push(path);
        await walk(path);
      }
    }
  };
  await walk(runDir);
  return found;
}

/** Epochs of metrics.jsonl as written (not as a forgiving reader sees them). */
async function metricsEpochs(runDir: string): Promise<number[]> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return (JSON.parse(l) as { epoch: number }).epoch;
      } catch {
        return -1;
      }
    });
}

/** Checks a completed run: status, each epoch once in metrics.jsonl, valid pointers, nothing left over. */
async function finishedRunProblems(runDir: string, epochs: number): Promise<string[]> {
  const problems = [...(await checkpointProblems(runDir, 'last')), ...(await checkpointProblems(runDir, 'best'))];
  const status = await readJson<{ state: string; epoch: number }>(join(runDir, 'status.json'));
  if (status?.state !== 'completed' || status.epoch !== epochs) problems.push(`status ${JSON.stringify(status)}`);
  const logged = await metricsEpochs(runDir);
  const wanted = Array.from({ length: epochs }, (_, i) => i + 1);
  if (JSON.stringify(logged) !== JSON.stringify(wanted)) problems.push(`metrics.jsonl epochs ${logged.join(',')}`);
  if ((await readJson<{ epoch: number }>(join(runDir, 'checkpoints', 'last.json')))?.epoch !== epochs) problems.push('last.json is not the final epoch');
  if (!existsSync(join(runDir, 'summary.json'))) problems.push('summary.json missing');
  problems.push(...(await leftovers(runDir)).map((f) => `left over: ${f}`));
  return problems;
}

/** Waits until `test` holds, polling every `everyMs`; false on timeout. */
async function waitFor(test: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await sleep(everyMs);
  }
  return false;
}

async function lastEpoch(runDir: string): Promise<number> {
  return (await readJson<{ epoch: number }>(join(runDir, 'checkpoints', 'last.json')))?.epoch ?? 0;
}

/** Kill -9 rounds: each kill lands at a seeded random moment or as a new checkpoint folder appears; then resume. */
async function killAndResume(data: string, work: string, seed: number, kills: number): Promise<CaseResult> {
  const result: CaseResult = { name: 'kill -9 + resume', tried: 0, survived: 0, dataLost: 0, notes: [] };
  const random = createRandom(seed).fork('kills');
  const runDir = join(work, 'killed');
  const reference = join(work, 'reference');
  const dataHash = await hashTree(data);
  const ref = await covseg(['train', '--data', data, '--out', reference, '--epochs', String(EPOCHS), ...TINY]).exit;
  if (ref.code !== 0) throw new Error(`reference run failed: ${ref.stderr}`);
  let config: string | undefined;
  let committed = 0;
  let sequenceOk = true;
  for (let k = 0; k < kills; k++) {
    result.tried++;
    const resume = existsSync(join(runDir, 'config.json'));
    const child = covseg(['train', '--data', data, '--out', runDir, '--epochs', String(EPOCHS), ...TINY, ...(resume ? ['--resume'] : [])]);
    const atCheckpoint = random.chance(0.5);
    // Let every round make progress first (one more checkpoint committed), so kills spread over the run.
    const before = await lastEpoch(runDir);
    await waitFor(async () => child.exited() || (await lastEpoch(runDir)) > before, 120_000, 5);
    const progressed = await lastEpoch(runDir);
    let how: string;
    if (atCheckpoint) {
      // A checkpoint folder newer than last.json: the kill lands while it is being written.
      await waitFor(async () => {
        if (child.exited()) return true;
        const names = await readdir(join(runDir, 'checkpoints')).catch(() => [] as string[]);
        return names.some((n) => n.startsWith('epoch-') && Number(n.slice(6)) > progressed);
      }, 120_000, 1);
      how = `while checkpointing epoch ${progressed + 1}`;
    } else {
      const delay = Math.round(random.uniform(0, 1500));
      await sleep(delay);
      how = `${delay} ms after the checkpoint of epoch ${progressed}`;
    }
    child.process.kill('SIGKILL');
    const exit = await child.exit;
    const problems: string[] = [];
    if (exit.signal !== 'SIGKILL') {
      problems.push(`the run ended before the kill (${exit.code})`);
    }
    const nowConfig = await readFile(join(runDir, 'config.json'), 'utf8').catch(() => undefined);
    config ??= nowConfig;
    let lost = 0;
    if (config !== undefined && nowConfig !== config) {
      lost++;
      problems.push('config.json changed or vanished');
    }
    const saved = await lastEpoch(runDir);
    if (saved < committed) {
      lost++;
      problems.push(`last checkpoint went back from epoch ${committed} to ${saved}`);
    }
    committed = Math.max(committed, saved);
    const broken = [...(await checkpointProblems(runDir, 'last')), ...(await checkpointProblems(runDir, 'best'))];
    if (broken.length) {
      lost++;
      problems.push(...broken);
    }
    result.dataLost += lost;
    if (problems.length === 0 || (problems.length === 1 && problems[0]!.startsWith('the run ended'))) result.survived++;
    else sequenceOk = false;
    result.notes.push(`kill ${k + 1} ${how}: checkpoint epoch ${saved}${problems.length ? `; ${problems.join('; ')}` : ''}`);
  }
  result.tried++;
  const final = await covseg(['train', '--data', data, '--out', runDir, '--epochs', String(EPOCHS), ...TINY, '--resume']).exit;
  const problems = final.code === 0 ? await finishedRunProblems(runDir, EPOCHS) : [`final resume exited ${final.code}: ${final.stderr.trim().split('\n').pop()}`];
  if ((await hashTree(data)) !== dataHash) {
      result.dataLost++;
      problems.push('the dataset changed');
    }
  if (problems.length === 0 && sequenceOk) result.survived++;
  result.notes.push(`final resume: ${problems.length ? problems.join('; ') : 'completed, every epoch logged once, pointers valid, nothing left over'}`);
  const identical = (await readFile(join(runDir, 'checkpoints', 'epoch-' + String(EPOCHS).padStart(4, '0'), 'weights.bin')).catch(() => Buffer.alloc(0))).equals(
    await readFile(join(reference, 'checkpoints', 'epoch-' + String(EPOCHS).padStart(4, '0'), 'weights.bin')),
  );
  result.notes.push(`final weights ${identical ? 'bit-identical to' : 'differ from'} an uninterrupted run of the same config`);
  return result;
}

/** A second writer, fresh and resuming, while the first trains: both turned away naming it; the first finishes. */
async function twoWriters(data: string, work: string): Promise<CaseResult> {
  const result: CaseResult = { name: 'two writers on one run', tried: 1, survived: 0, dataLost: 0, notes: [] };
  const runDir = join(work, 'shared');
  const first = covseg(['train', '--data', data, '--out', runDir, '--epochs', '500', ...TINY]);
  await waitFor(() => existsSync(join(runDir, 'config.json')), 120_000);
  const problems: string[] = [];
  for (const extra of [[], ['--resume']]) {
    const second = await covseg(['train', '--data', data, '--out', runDir, '--epochs', '500', ...TINY, ...extra]).exit;
    const named = second.stderr.includes(`pid ${first.process.pid} on ${hostname()}`);
    if (second.code !== 1 || !named) problems.push(`second writer ${extra.join(' ') || 'fresh'} exited ${second.code}${named ? '' : ' without naming the holder'}`);
  }
  if (first.exited()) problems.push('the first writer ended before the second tried (raise its epochs)');
  // Ctrl-C: the first stops after its batch, releases the lock, and leaves a consistent run.
  first.process.kill('SIGINT');
  const exit = await first.exit;
  if (exit.code !== 0) problems.push(`first writer exited ${exit.code} after Ctrl-C`);
  const epoch = (await readJson<{ epoch: number }>(join(runDir, 'status.json')))?.epoch ?? -1;
  const logged = await metricsEpochs(runDir);
  const broken = [...(await checkpointProblems(runDir, 'last')), ...(await checkpointProblems(runDir, 'best'))];
  if (JSON.stringify(logged) !== JSON.stringify(Array.from({ length: epoch }, (_, i) => i + 1))) broken.push(`metrics.jsonl epochs ${logged.join(',')} for ${epoch} epochs`);
  if ((await lastEpoch(runDir)) !== epoch) broken.push(`last.json is not epoch ${epoch}`);
  broken.push(...(await leftovers(runDir)).map((f) => `left over: ${f}`));
  if (broken.length) {
    result.dataLost++;
    problems.push(...broken);
  }
  if (problems.length === 0) result.survived++;
  result.notes.push(problems.length ? problems.join('; ') : `fresh and --resume second writers exit 1 naming pid and host; the first, cancelled after epoch ${epoch}, left a consistent run and no lock`);
  return result;
}

/** Fills a small tmpfs so a checkpoint cannot be written; then frees it and resumes. */
async function diskFull(data: string): Promise<CaseResult | string> {
  const disk = mountSmallDisk(4 * 1024 * 1024);
  if (typeof disk === 'string') return `disk full: skipped, a tmpfs cannot be mounted here (${disk})`;
  const result: CaseResult = { name: 'disk full (tmpfs)', tried: 1, survived: 0, dataLost: 0, notes: [] };
  try {
    const runDir = join(disk.dir, 'run');
    const problems: string[] = [];
    // First epoch with room, to learn how large a checkpoint is.
    const one = await covseg(['train', '--data', data, '--out', runDir, '--epochs', '1', ...TINY]).exit;
    if (one.code !== 0) problems.push(`first epoch failed: ${one.stderr}`);
    const checkpoint = join(runDir, 'checkpoints', 'epoch-0001');
    let size = 0;
    for (const name of await readdir(checkpoint)) size += (await stat(join(checkpoint, name))).size;
    // Leave room for half a checkpoint: the next save must fail midway.
    const filler = join(disk.dir, 'filler');
    const handle = await open(filler, 'w');
    try {
      for (;;) await handle.write(Buffer.alloc(64 * 1024, 1));
    } catch {
      // ENOSPC: the disk is full.
    }
    const { size: filled } = await handle.stat();
    await handle.truncate(Math.max(0, filled - Math.round(size / 2)));
    await handle.close();
    const full = await covseg(['train', '--data', data, '--out', runDir, '--epochs', '3', '--resume', ...TINY]).exit;
    if (full.code !== 1) problems.push(`exit ${full.code} on a full disk`);
    if (!/disk full/.test(full.stderr)) problems.push('no "disk full" message');
    if (/\n\s+at /.test(full.stderr)) problems.push('a stack trace was printed');
    const broken = await checkpointProblems(runDir, 'last');
    if (broken.length || (await lastEpoch(runDir)) !== 1) {
      result.dataLost++;
      problems.push(`last good checkpoint damaged: ${broken.join('; ')}`);
    }
    const partial = (await leftovers(runDir)).filter((f) => !f.endsWith('.lock'));
    if (partial.length) problems.push(`partial files left: ${partial.join(', ')}`);
    result.notes.push(`on the full disk: ${full.stderr.trim().split('\n').filter((l) => l.startsWith('error:')).join(' ')}`);
    await rm(filler);
    const resumed = await covseg(['train', '--data', data, '--out', runDir, '--epochs', '3', '--resume', ...TINY]).exit;
    if (resumed.code !== 0) problems.push(`resume after freeing space exited ${resumed.code}: ${resumed.stderr}`);
    else problems.push(...(await finishedRunProblems(runDir, 3)));
    if (problems.length === 0) result.survived++;
    result.notes.push(problems.length ? problems.join('; ') : 'after freeing space the run resumed from epoch 1 and completed');
    return result;
  } finally {
    disk.unmount();
  }
}

interface Served {
  process: ChildProcess;
  post: (channel: string, body: unknown) => Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string; details?: { file?: string } } }>;
}

/** Starts `covseg serve` on a free port and resolves with a client carrying its printed token. */
async function startServer(workspace: string, dataRoot: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--workspace', workspace, '--data', dataRoot], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const printed = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = out.match(/http:\/\/\S+token=\S+/)?.[0];
      if (url) done(url);
    });
    child.once('exit', (code) => fail(new Error(`covseg serve exited with ${code}: ${stderr}`)));
  });
  const url = new URL(printed);
  const token = url.searchParams.get('token')!;
  const post: Served['post'] = async (channel, body) => {
    const reply = await fetch(`${url.origin}/api/${channel}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return (await reply.json()) as Awaited<ReturnType<Served['post']>>;
  };
  return { process: child, post };
}

/** Resident memory of a process in MB, from /proc (Linux). */
async function rssMb(pid: number): Promise<number> {
  const kb = Number((await readFile(`/proc/${pid}/status`, 'utf8')).match(/VmRSS:\s+(\d+)/)?.[1]);
  return kb / 1024;
}

/**
 * A NIfTI whose header says 8x8x4 int16 (512 bytes of voxels) but whose gzip stream inflates to
 * `BOMB_ZEROS` more bytes of zeros, with an honest label volume next to it so the image is read.
 */
async function writeBombDataset(root: string): Promise<string> {
  await mkdir(join(root, 'images'), { recursive: true });
  await mkdir(join(root, 'labels'), { recursive: true });
  const honest = join(root, 'labels', 'x.nii.gz');
  await writeNifti(honest, { shape: [8, 8, 4], values: new Int16Array(256).fill(0), datatype: 'int16' });
  const bomb = join(root, 'images', 'x.nii.gz');
  const zeros = Buffer.alloc(2 ** 20);
  async function* content(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(honest).pipe(createGunzip())) yield chunk as Buffer;
    for (let n = 0; n < BOMB_ZEROS / zeros.length; n++) yield zeros;
  }
  await pipeline(Readable.from(content()), createGzip(), createWriteStream(bomb));
  return bomb;
}

/** Times a request while sampling the server's RSS every 20 ms; returns the reply, the time and the peak RSS. */
async function measured<T>(pid: number, request: () => Promise<T>): Promise<{ reply: T; ms: number; peakMb: number }> {
  let peakMb = await rssMb(pid);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peakMb = Math.max(peakMb, await rssMb(pid).catch(() => 0));
      await sleep(20);
    }
  })();
  const started = Date.now();
  try {
    const reply = await request();
    return { reply, ms: Date.now() - started, peakMb };
  } finally {
    done = true;
    await sampler;
  }
}

async function stillAnswers(server: Served): Promise<boolean> {
  return (await server.post('system/info', {}).catch(() => ({ ok: false }))).ok;
}

/** The bomb and oversized-parameter requests of issue #8, against a running server with a time and memory ceiling. */
async function servedCeilings(data: string, work: string): Promise<CaseResult[] | string> {
  if (!existsSync(join(resolve(import.meta.dirname, '../../out/renderer'), 'index.html'))) return 'served ceilings: skipped, the app is not built (run `npm run build`)';
  const dataRoot = join(work, 'served');
  await mkdir(dataRoot, { recursive: true });
  const bombRoot = join(dataRoot, 'bomb');
  const bomb = await writeBombDataset(bombRoot);
  const plain = join(dataRoot, 'plain');
  await cp(data, plain, { recursive: true });
  const server = await startServer(join(work, 'served-workspace'), dataRoot);
  const pid = server.process.pid!;
  const exited = new Promise<void>((r) => server.process.once('exit', () => r()));
  try {
    const sigma: CaseResult = { name: 'served: RandElastic sigma 1e9', tried: 1, survived: 0, dataLost: 0, notes: [] };
    const bombCase: CaseResult = { name: 'served: NIfTI gzip bomb', tried: 1, survived: 0, dataLost: 0, notes: [] };

    const opened = await server.post('datasets/open', { path: plain });
    const datasetId = (opened.value as { id?: string } | undefined)?.id;
    const slices = datasetId ? ((await server.post('slices/list', { datasetId })).value as { id: string }[] | undefined) : undefined;
    const problems: string[] = [];
    if (!datasetId || !slices?.length) problems.push(`could not open the plain dataset: ${JSON.stringify(opened.error)}`);
    else {
      const step = { type: 'RandElastic', prob: 1, alpha: 8, sigma: 1e9 };
      const { reply, ms } = await measured(pid, () => server.post('augment/preview', { datasetId, sliceId: slices[0]!.id, seed: 1, step }));
      if (reply.ok || reply.error?.code !== 'invalid-argument') problems.push(`answered ${JSON.stringify(reply).slice(0, 200)}`);
      if (!/sigma/.test(JSON.stringify(reply.error ?? {}))) problems.push(`the refusal does not name sigma: ${JSON.stringify(reply.error)}`);
      if (ms > REFUSE_WITHIN_MS) problems.push(`took ${ms} ms (ceiling ${REFUSE_WITHIN_MS} ms)`);
      if (!(await stillAnswers(server))) problems.push('the server stopped answering');
      if (!problems.length) sigma.notes.push(`refused in ${ms} ms (${reply.error!.code}: ${reply.error!.message}); the server still answers`);
    }
    sigma.survived = problems.length ? 0 : 1;
    if (problems.length) sigma.notes.push(problems.join('; '));

    const idleMb = await rssMb(pid);
    const bombProblems: string[] = [];
    const { reply, ms, peakMb } = await measured(pid, () => server.post('datasets/open', { path: bombRoot }));
    const report = (reply.value as { report?: { problems: { file: string; message: string }[] } } | undefined)?.report;
    const named = reply.ok ? report?.problems.find((p) => p.file === bomb) : reply.error && (reply.error.details?.file === bomb || reply.error.message.includes(bomb)) ? reply.error : undefined;
    if (!named) bombProblems.push(`no error naming ${bomb}: ${JSON.stringify(reply).slice(0, 300)}`);
    if (ms > BOMB_WITHIN_MS) bombProblems.push(`took ${ms} ms (ceiling ${BOMB_WITHIN_MS} ms)`);
    if (peakMb - idleMb > RSS_CEILING_MB) bombProblems.push(`RSS grew ${(peakMb - idleMb).toFixed(0)} MB (ceiling ${RSS_CEILING_MB} MB)`);
    if (!(await stillAnswers(server))) bombProblems.push('the server stopped answering');
    bombCase.survived = bombProblems.length ? 0 : 1;
    bombCase.notes.push(
      bombProblems.length
        ? bombProblems.join('; ')
        : `${(BOMB_ZEROS / 2 ** 20).toFixed(0)} MB bomb refused in ${ms} ms naming the file ("${named!.message}"); RSS ${idleMb.toFixed(0)} -> peak ${peakMb.toFixed(0)} MB; the server still answers`,
    );
    return [sigma, bombCase];
  } finally {
    server.process.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  }
}

async function main(): Promise<number> {
  const seed = argValue('--seed', 1);
  const kills = argValue('--kills', 6);
  const work = await mkdtemp(join(tmpdir(), 'covseg-faults-'));
  env = { ...process.env, COVSEG_CACHE_DIR: join(work, 'cache'), COVSEG_WORKSPACE: join(work, 'workspace') };
  try {
    const data = join(work, 'data');
    await writeSyntheticSample(data, { count: 24, size: 32, seed });
    const results: CaseResult[] = [];
    const skipped: string[] = [];
    const started = Date.now();
    for (const run of [() => killAndResume(data, work, seed, kills), () => twoWriters(data, work), () => diskFull(data), () => servedCeilings(data, work)]) {
      const outcome = await run();
      if (typeof outcome === 'string') skipped.push(outcome);
      else results.push(...[outcome].flat());
    }
    for (const r of results) for (const note of r.notes) console.log(`${r.name}: ${note}`);
    for (const s of skipped) console.log(s);
    const total = { tried: 0, survived: 0, dataLost: 0 };
    for (const r of results) {
      total.tried += r.tried;
      total.survived += r.survived;
      total.dataLost += r.dataLost;
    }
    console.log(`\nfault suite, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    console.log(formatTable(['case', 'tried', 'survived', 'data lost'], [...results.map((r) => [r.name, r.tried, r.survived, r.dataLost]), ['total', total.tried, total.survived, total.dataLost]]));
    return total.survived === total.tried && total.dataLost === 0 ? 0 : 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
