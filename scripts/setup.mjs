#!/usr/bin/env node
// One-step set-up for a fresh clone: installs dependencies when the lock file changed, then reports
// what optional parts (Electron binary, native TensorFlow) this machine has. Runs before `npm run demo`
// and `npm test`, so those two commands are all a new user types.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampPath = join(root, 'node_modules', '.covseg-setup-stamp');
const quiet = process.argv.includes('--quiet');
const wantBrowser = process.argv.includes('--browser');
const wantSlurm = process.argv.includes('--slurm');

function log(message) {
  if (!quiet) console.error(`[setup] ${message}`);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    console.error(`[setup] Node ${process.versions.node} is too old: CovSeg Studio needs Node >= 20.19.`);
    process.exit(1);
  }
}

function lockHash() {
  const lock = join(root, 'package-lock.json');
  const manifest = readFileSync(join(root, 'package.json'));
  const hash = createHash('sha256').update(manifest);
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest('hex');
}

function installDependencies() {
  const wanted = lockHash();
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wanted) return;
  const hasLock = existsSync(join(root, 'package-lock.json'));
  const args = hasLock ? ['ci'] : ['install'];
  log(`installing dependencies (npm ${args.join(' ')}) ...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, [...args, '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    // The Electron binary and libtensorflow come from hosts outside the npm registry; neither may
    // block the install. The desktop window is optional, the engine is not. onnxruntime-node's CPU
    // binaries ship in its npm package; its install script would fetch CUDA providers from elsewhere
    // (ONNXRUNTIME_NODE_INSTALL=cuda12 asks for them).
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' },
  });
  if (result.status !== 0) {
    console.error('[setup] npm install failed; see the messages above.');
    process.exit(result.status ?? 1);
  }
  writeFileSync(stampPath, lockHash());
}

function reportOptionalParts() {
  const electronDist = join(root, 'node_modules', 'electron', 'dist');
  if (!existsSync(electronDist)) {
    log('Electron binary not present: the desktop window is unavailable here (`covseg serve` gives the same UI in a browser).');
  }
  const native = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].find((name) =>
    existsSync(join(root, 'node_modules', ...name.split('/'), 'lib')),
  );
  log(native ? `native TensorFlow present: ${native}` : 'native TensorFlow not installed: training uses the wasm backend.');
  const ort = existsSync(join(root, 'node_modules', 'onnxruntime-node', 'dist'));
  log(ort ? 'ONNX Runtime present: eval and predict use it (--engine auto).' : 'ONNX Runtime not installed: eval and predict use tfjs.');
}

/** The Vulkan loader Dawn (npm `webgpu`) needs on Linux; the WebGPU tests use it with Chromium's SwiftShader driver. */
function hasVulkanLoader() {
  return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((dir) => existsSync(join(dir, 'libvulkan.so.1')));
}

/** Debian's pydicom, the independent reader the DICOM tests compare against (they skip, saying so, without it). */
function hasPydicom() {
  return existsSync('/usr/lib/python3/dist-packages/pydicom');
}

/**
 * Browser tests drive Debian's Chromium; WebGPU tests run on the SwiftShader Vulkan driver it ships,
 * through the Vulkan loader (libvulkan1); DICOM tests check against python3-pydicom. Install what is
 * missing with apt when this machine lets us.
 */
function ensureTestPackages() {
  const chromium = process.env.COVSEG_CHROMIUM ?? '/usr/bin/chromium';
  const missing = [...(existsSync(chromium) ? [] : ['chromium']), ...(process.platform !== 'linux' || hasVulkanLoader() ? [] : ['libvulkan1']), ...(process.platform !== 'linux' || hasPydicom() ? [] : ['python3-pydicom'])];
  if (missing.length === 0) return;
  const canApt = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canApt) {
    if (missing.includes('chromium')) log(`${chromium} is missing: browser tests will be skipped. Install Chromium (Debian: apt-get install chromium) or set COVSEG_CHROMIUM.`);
    if (missing.includes('libvulkan1')) log('the Vulkan loader is missing: WebGPU tests will be skipped. Install it (Debian: apt-get install libvulkan1).');
    if (missing.includes('python3-pydicom')) log('pydicom is missing: the DICOM cross-check is skipped. Install it (Debian: apt-get install python3-pydicom).');
    return;
  }
  log(`installing ${missing.join(' and ')} for the browser, WebGPU and DICOM tests (apt-get install ${missing.join(' ')}) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env }) : update;
  if (install.status !== 0) log(`${missing.join(' and ')} could not be installed: browser and WebGPU tests will be skipped or fail in CI.`);
}

/**
 * The one-node Slurm cluster the Slurm executor's tests run on (scripts/slurm-local.mjs). Never
 * fails the set-up: without root, apt or a working cluster the script says why and those tests skip.
 */
function ensureLocalSlurm() {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'slurm-local.mjs'), ...(quiet ? ['--quiet'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 900_000 });
  if (result.status !== 0 || !result.stdout.includes('ready')) log('no local Slurm cluster: the Slurm executor tests will be skipped (see the message above).');
}

checkNode();
installDependencies();
if (wantBrowser) ensureTestPackages();
if (wantSlurm) ensureLocalSlurm();
reportOptionalParts();
