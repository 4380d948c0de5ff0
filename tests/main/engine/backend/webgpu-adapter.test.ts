import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBackend } from '../../../../src-main/engine/backend/select-backend';
import { adapterInfoOf, describeAdapter, linuxGpuDeviceNodePresent, missingAdapterFix, probeAdapter } from '../../../../src-main/engine/backend/webgpu-adapter';
import { NO_SWIFTSHADER, SWIFTSHADER_ICD } from '../../../fixtures/swiftshader';
import { tempDir } from '../../../fixtures/temp-dir';

const LIMITS = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 31 };

describe('WebGPU adapter descriptions', () => {
  it('tells hardware from software adapters by the fallback flag or the driver name', () => {
    const nvidia = adapterInfoOf({ info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' }, limits: LIMITS });
    expect(nvidia).toEqual({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060', software: false, limits: LIMITS });
    expect(adapterInfoOf({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' }, limits: LIMITS }).software).toBe(true);
    expect(adapterInfoOf({ info: { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)' }, limits: LIMITS }).software).toBe(true);
    expect(adapterInfoOf({ info: { vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon', isFallbackAdapter: true }, limits: LIMITS }).software).toBe(true);
  });

  it('names the adapter in the backend line that runs record and the app header show', () => {
    const adapter = adapterInfoOf({ info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' }, limits: LIMITS });
    expect(describeAdapter(adapter)).toBe('NVIDIA GeForce RTX 3060 (nvidia ampere)');
    const line = describeBackend({ name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', version: '4.22.0', gpu: true, skipped: [], adapter });
    expect(line).toBe('webgpu (@tensorflow/tfjs-backend-webgpu 4.22.0, GPU: NVIDIA GeForce RTX 3060 (nvidia ampere))');
    expect(describeBackend({ name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: '4.22.0', gpu: false, skipped: [] })).toBe('wasm (@tensorflow/tfjs-backend-wasm 4.22.0, CPU)');
  });

  it('sees a GPU device node only where a GPU driver made one (render node, NVIDIA, WSL2)', async () => {
    const dev = await tempDir('covseg-dev-');
    await mkdir(join(dev, 'dri'));
    await writeFile(join(dev, 'dri', 'card0'), '');
    await writeFile(join(dev, 'null'), '');
    expect(linuxGpuDeviceNodePresent(dev)).toBe(false);
    await writeFile(join(dev, 'dri', 'renderD128'), '');
    expect(linuxGpuDeviceNodePresent(dev)).toBe(true);
    const nvidia = await tempDir('covseg-dev-');
    await writeFile(join(nvidia, 'nvidiactl'), '');
    expect(linuxGpuDeviceNodePresent(nvidia)).toBe(false);
    await writeFile(join(nvidia, 'nvidia0'), '');
    expect(linuxGpuDeviceNodePresent(nvidia)).toBe(true);
    expect(linuxGpuDeviceNodePresent(join(dev, 'absent'))).toBe(false);
  });

  it('says which driver to install on each platform', () => {
    expect(missingAdapterFix('linux')).toMatch(/libvulkan1|Vulkan driver/);
    expect(missingAdapterFix('linux')).toContain('vulkaninfo --summary');
    expect(missingAdapterFix('darwin')).toContain('Metal');
    expect(missingAdapterFix('win32')).toContain('Direct3D 12');
  });
});

describe.skipIf(NO_SWIFTSHADER)('probing for an adapter in a child process', () => {
  it('finds SwiftShader, marked software, with its buffer limits', () => {
    const probe = probeAdapter({ ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    expect(probe.found).toBe(true);
    if (!probe.found) return;
    expect(probe.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', software: true });
    expect(probe.adapter.description).toMatch(/^SwiftShader driver/);
    expect(probe.adapter.limits.maxBufferSize).toBeGreaterThan(2 ** 20);
  });

  it('reports no adapter, with the fix, when Vulkan has no driver', () => {
    const probe = probeAdapter({ ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(probe).toEqual({ found: false, reason: `no WebGPU adapter: ${missingAdapterFix()}` });
  });
});
