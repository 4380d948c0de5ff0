import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The WebGPU adapter a run used: recorded with the backend and shown in the app's header. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** A CPU emulation (SwiftShader, lavapipe/llvmpipe, or Dawn's fallback adapter): correct, not fast. */
  software: boolean;
  /** The two limits that bound one tensor (bytes). */
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** The fields of a WebGPU adapter this module reads (Dawn's GPUAdapter has them all). */
export interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

/** Reads what people and the run record need from an adapter. */
export function adapterInfoOf(adapter: AdapterLike): GpuAdapterInfo {
  const info = adapter.info ?? {};
  const vendor = info.vendor || 'unknown vendor';
  const architecture = info.architecture || 'unknown architecture';
  const description = info.description || info.device || 'no description';
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return {
    vendor,
    architecture,
    description,
    software: fallback || SOFTWARE_NAMES.test(`${vendor} ${architecture} ${description}`),
    limits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  };
}

/** `SwiftShader driver 5.0.0 (google swiftshader, software)`. */
export function describeAdapter(adapter: GpuAdapterInfo): string {
  return `${adapter.description} (${adapter.vendor} ${adapter.architecture}${adapter.software ? ', software' : ''})`;
}

function vulkanLoaderPresent(): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('libvulkan.so.1');
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((dir) => existsSync(`${dir}/libvulkan.so.1`));
  }
}

/** Why Dawn found no adapter on this platform, and what to install: the `fix` of the error people see. */
export function missingAdapterFix(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'linux') {
    if (!vulkanLoaderPresent()) {
      return 'the Vulkan loader (libvulkan.so.1) is missing: install libvulkan1 (Debian/Ubuntu) or vulkan-loader (Fedora), plus your GPU\'s Vulkan driver; check with `vulkaninfo --summary` (package vulkan-tools)';
    }
    return 'no Vulkan driver offers a usable GPU: install your GPU\'s Vulkan driver (NVIDIA\'s proprietary driver, or Mesa\'s radv/anv for AMD/Intel: mesa-vulkan-drivers); check with `vulkaninfo --summary` (package vulkan-tools)';
  }
  if (platform === 'darwin') return 'Metal found no GPU: WebGPU needs macOS 12 or later on a Mac with a Metal GPU';
  if (platform === 'win32') return 'Direct3D 12 found no GPU: update the graphics driver (check with `dxdiag`)';
  return `WebGPU through Dawn is not built for ${platform}`;
}

/** Where the Dawn binding lives, or undefined when the optional `webgpu` package is absent. */
export function webgpuModuleUrl(): string | undefined {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return undefined;
  }
}

// Run in a child so that a Vulkan driver's console noise, or a crash inside one, never reaches the
// caller: auto-selection must cost nothing but time on machines without a usable GPU.
const PROBE_SCRIPT = `
const { create, globals } = await import(process.env.COVSEG_WEBGPU_URL);
Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const info = adapter ? adapter.info : undefined;
process.stdout.write('\\n' + JSON.stringify(adapter ? {
  info: { vendor: info.vendor, architecture: info.architecture, description: info.description, device: info.device, isFallbackAdapter: info.isFallbackAdapter },
  isFallbackAdapter: adapter.isFallbackAdapter,
  limits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
} : null) + '\\n');
process.exit(0);
`;

/**
 * Whether Linux exposes a GPU device node: DRM render nodes (Mesa, NVIDIA open), NVIDIA's
 * proprietary nodes, or WSL2's /dev/dxg. Without one no hardware adapter can exist, and auto
 * selection skips the probe.
 */
export function linuxGpuDeviceNodePresent(dev = '/dev'): boolean {
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return list(`${dev}/dri`).some((n) => n.startsWith('renderD')) || list(dev).some((n) => /^nvidia\d+$/.test(n) || n === 'dxg');
}

/** What a WebGPU probe found: an adapter, or why there is none. */
export type AdapterProbe = { found: true; adapter: GpuAdapterInfo } | { found: false; reason: string };

/**
 * Asks Dawn, in a separate Node process, for the high-performance adapter. Takes about half a
 * second; never throws.
 */
export function probeAdapter(env: NodeJS.ProcessEnv = process.env): AdapterProbe {
  const url = webgpuModuleUrl();
  if (!url) return { found: false, reason: 'the optional package "webgpu" is not installed' };
  // ELECTRON_RUN_AS_NODE lets the same call work from Electron's main process, whose execPath is Electron.
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT], {
    encoding: 'utf8',
    env: { ...env, COVSEG_WEBGPU_URL: url, ELECTRON_RUN_AS_NODE: '1' },
    timeout: 30_000,
  });
  const last = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !last) return { found: false, reason: `the WebGPU probe failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})` };
  try {
    const parsed = JSON.parse(last) as AdapterLike | null;
    return parsed ? { found: true, adapter: adapterInfoOf(parsed) } : { found: false, reason: `no WebGPU adapter: ${missingAdapterFix()}` };
  } catch {
    return { found: false, reason: 'the WebGPU probe printed no adapter description' };
  }
}
