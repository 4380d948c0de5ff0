#!/usr/bin/env node
// `npm start`: builds the app, then opens the Electron window (the built-in sample opens by itself)
// when the Electron binary and a display exist; otherwise says which is missing and serves the same
// UI to a browser with `covseg serve`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

const build = spawnSync(npx, ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

function electronBinary() {
  const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(root, 'node_modules', 'electron', 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const binary = electronBinary();
if (binary && hasDisplay) {
  const child = spawn(binary, [root], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const missing = [!binary && 'the Electron binary (`npx install-electron` fetches it where the network allows)', !hasDisplay && 'a display (DISPLAY or WAYLAND_DISPLAY)'].filter(Boolean);
  console.error(`Desktop window unavailable, missing ${missing.join(' and ')}. Serving the same app to a browser instead.`);
  const serve = spawn(process.execPath, [join(root, 'bin', 'covseg.mjs'), 'serve', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  serve.on('exit', (code) => process.exit(code ?? 0));
}
