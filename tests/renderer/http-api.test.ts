import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { TrainingProgress } from '../../src-shared/contract';
import { createHttpApi } from '../../src-renderer/src/api/http-api';
import { startHttpTransport } from '../../src-main/http/http-transport';
import { createAppServices } from '../../src-main/services/app-services';
import { seedBuiltInSample } from '../fixtures/sample-cache';
import { tempDir } from '../fixtures/temp-dir';

describe('the renderer HTTP/WebSocket client against the real server', () => {
  it('calls commands, gets errors as values, receives pushed events, and is refused without the token', async () => {
    const workspace = await tempDir();
    // The built-in sample as the app's first start leaves it: this test is about the transport.
    await seedBuiltInSample(workspace);
    const server = await startHttpTransport((emit) => createAppServices({ transport: 'http', workspace, allowedRoots: [], emit }), {
      host: '127.0.0.1',
      port: 0,
      rendererDir: workspace,
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      // Outside a browser there is no cookie jar: the socket carries the token as a bearer header.
      const socketFactory = (url: string) => new WebSocket(url, { headers: { Authorization: `Bearer ${server.token}` } }) as unknown as globalThis.WebSocket;
      const api = createHttpApi({ token: server.token, base, socketFactory });
      const info = await api.system.info({});
      expect(info.ok && info.value.transport).toBe('http');
      const missing = await api.runs.get({ runId: 'no-such-run' });
      expect(!missing.ok && missing.error.code).toBe('not-found');
      const invalid = await api.slices.thumbnail({ datasetId: 'x', sliceId: 'y', size: 5 });
      expect(!invalid.ok && invalid.error.code).toBe('invalid-argument');

      const events: TrainingProgress[] = [];
      api.training.onProgress((p) => events.push(p));
      const opened = await api.datasets.openSample({});
      expect(opened.ok).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // let the socket connect before the run starts
      const started = await api.training.start({ datasetId: opened.ok ? opened.value.id : '', epochs: 1, size: 32, depth: 2, baseFilters: 4, batch: 8 });
      expect(started.ok).toBe(true);
      const deadline = Date.now() + 120_000;
      while (!events.some((e) => e.kind === 'status' && e.state === 'completed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(events.some((e) => e.kind === 'epoch' && e.epoch === 1)).toBe(true);
      expect(events.at(-1)).toMatchObject({ kind: 'status', state: 'completed' });

      const stranger = createHttpApi({ token: 'wrong', base, socketFactory });
      const refused = await stranger.system.info({});
      expect(!refused.ok && refused.error.code).toBe('forbidden');
    } finally {
      await server.close();
    }
  });
});
