import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_CHANNELS, EVENT_CHANNELS, createApi, type CommandChannel } from '../../../src-shared/contract';
import { startHttpTransport } from '../../../src-main/http/http-transport';
import { createAppServices } from '../../../src-main/services/app-services';
import { seedBuiltInSample } from '../../fixtures/sample-cache';
import { tempDir } from '../../fixtures/temp-dir';

describe('every contract key is bound everywhere', () => {
  it('has a main handler, a preload/renderer method and an HTTP route for each command', async () => {
    const workspace = await tempDir();
    // The probe below reaches datasets:openSample too: with the sample in place it opens it instead of writing it (~10 s).
    await seedBuiltInSample(workspace);
    const services = createAppServices({ transport: 'http', workspace, allowedRoots: [], emit: () => {} });
    expect(Object.keys(services.handlers).sort()).toEqual([...COMMAND_CHANNELS].sort());

    // The preload and the HTTP client both build their API with createApi over the contract.
    const called: string[] = [];
    const api = createApi({ invoke: async (channel) => (called.push(channel), { ok: true, value: null }), subscribe: () => () => {} }) as unknown as Record<string, Record<string, (r: unknown) => Promise<unknown>>>;
    for (const channel of COMMAND_CHANNELS) {
      const [domain, verb] = channel.split(':') as [string, string];
      await api[domain]![verb]!({});
    }
    expect(called).toEqual(COMMAND_CHANNELS);
    for (const channel of EVENT_CHANNELS) {
      const [domain, name] = channel.split(':') as [string, string];
      expect(typeof api[domain]![`on${name[0]!.toUpperCase()}${name.slice(1)}`]).toBe('function');
    }
    const preload = await readFile(resolve(import.meta.dirname, '../../../src-preload/index.ts'), 'utf8');
    expect(preload).toMatch(/createApi\(/);
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer/);

    const server = await startHttpTransport(() => services, { host: '127.0.0.1', port: 0, rendererDir: workspace, token: 't' });
    try {
      for (const channel of COMMAND_CHANNELS) {
        const response = await fetch(`http://127.0.0.1:${server.port}/api/${channel.replace(':', '/')}`, { method: 'POST', headers: { Authorization: 'Bearer t' }, body: '{"__probe": 1}' });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { ok: boolean; error?: { code: string } };
        // A route exists when the command is recognised (it may still reject the probe's arguments).
        expect(body.error?.code, channel as CommandChannel).not.toBe('unknown-command');
      }
    } finally {
      await server.close();
    }
  });
});
