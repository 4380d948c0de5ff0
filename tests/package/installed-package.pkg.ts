import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNifti } from '../fixtures/nifti-writer';

const root = resolve(import.meta.dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 800_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

describe('the installed package', () => {
  let work: string;
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('runs covseg with plain Node from an npm-installed tarball: --version, sample, train, predict a volume', async () => {
    expect(existsSync(join(root, 'out', 'cli', 'covseg.js')), 'run `npm run build` first (npm run test:package does)').toBe(true);
    work = await mkdtemp(join(tmpdir(), 'covseg-package-'));
    run(npm, ['pack', '--pack-destination', work], root);
    const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'))!;
    const app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'covseg-package-check', version: '1.0.0', private: true }));
    // As a user behind this project's network rules would: no dev dependencies (no Electron, no tsx),
    // no install scripts (Electron's and onnxruntime's downloads come from outside the npm registry).
    run(npm, ['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], app, {
      ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    });
    const installed = join(app, 'node_modules', 'covseg-studio');
    expect(existsSync(join(installed, 'src-main')), 'sources are not shipped').toBe(false);
    expect(existsSync(join(app, 'node_modules', 'tsx')), 'tsx is a dev dependency only').toBe(false);
    const bin = join(installed, 'bin', 'covseg.mjs');
    // Plain node, no loader flags: the bundle in out/cli/ is what runs.
    const covseg = (...args: string[]) => run(process.execPath, [bin, ...args], app);
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(covseg('--version').stdout.trim()).toBe(manifest.version);
    expect(covseg('sample', '--out', 'sample', '--count', '12', '--size', '32').stdout).toMatch(/wrote 12 slices/);
    // Two workers: the gradient-replica worker thread must start from the bundle too.
    const trained = covseg('train', '--data', 'sample', '--out', 'run', '--epochs', '1', '--size', '32', '--batch', '4', '--depth', '2', '--base-filters', '4', '--workers', '2', '--backend', 'wasm');
    expect(trained.stdout).toMatch(/run completed: 1 epoch/);
    const config = JSON.parse(await readFile(join(app, 'run', 'config.json'), 'utf8')) as { versions: { covseg: string } };
    expect(config.versions.covseg).toBe(manifest.version);
    await mkdir(join(app, 'study'));
    await writeNifti(join(app, 'study', 'ct.nii.gz'), { shape: [32, 32, 3], values: Float32Array.from({ length: 32 * 32 * 3 }, (_, n) => (n % 7) * 100 - 900), datatype: 'float32' });
    const predicted = covseg('predict', '--run', 'run', '--input', join('study', 'ct.nii.gz'), '--out', 'labels.nii.gz');
    expect(predicted.stdout).toMatch(/wrote .*labels\.nii\.gz \(32 x 32 x 3 voxels/);
    expect(existsSync(join(app, 'labels.burden.json'))).toBe(true);
  });
});
