import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHttpTransport } from '../../../src-main/http/http-transport';
import { createAppServices } from '../../../src-main/services/app-services';
import { RunsService } from '../../../src-main/services/runs-service';
import { DatasetService } from '../../../src-main/services/dataset-service';
import { FileAccess } from '../../../src-main/services/file-access';
import { writePair } from '../../fixtures/gray-png';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One raw HTTP request to the loopback server, with whatever Host header the test names. */
function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolveReply, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { Host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens `/events` and reports `open` or the HTTP status the server refused the handshake with. */
function handshake(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolveOutcome) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    socket.on('open', () => {
      socket.close();
      resolveOutcome('open');
    });
    socket.on('unexpected-response', (_req, res) => resolveOutcome(String(res.statusCode)));
    socket.on('error', () => resolveOutcome('error'));
  });
}

describe('covseg serve over HTTP: hosts, token cookie, origins, paths', () => {
  const token = 'a'.repeat(48);
  let workspace: string;
  let root: string;
  let outside: string;
  let server: Awaited<ReturnType<typeof startHttpTransport>>;
  let port: number;
  /** The token cookie as the browser sends it back after the exchange. */
  let cookie: { Cookie: string };

  const post = async (channel: string, body: unknown, headers: Record<string, string> = cookie) => {
    const reply = await send(port, { method: 'POST', path: `/api/${channel}`, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: reply.status, json: JSON.parse(reply.body) as { ok: boolean; value?: unknown; error?: { code: string; message: string; details?: { file?: string; fix?: string } } } };
  };

  beforeAll(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'covseg-http-'));
    root = join(workspace, 'data');
    outside = join(workspace, 'elsewhere');
    const rendererDir = join(workspace, 'renderer');
    await mkdir(join(rendererDir, 'assets'), { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(rendererDir, 'assets', 'app.js'), 'export {};');
    await writeFile(join(workspace, 'secret.txt'), 'not for the browser');
    await writePair(join(root, '..scans'), 'case1');
    await writePair(outside, 'private');
    server = await startHttpTransport((emit) => createAppServices({ transport: 'http', workspace, allowedRoots: [root], emit }), {
      host: '127.0.0.1',
      port: 0,
      rendererDir,
      token,
      allowHosts: ['gpu-box'],
    });
    port = server.port;
    cookie = { Cookie: `covseg_token_${port}=${token}` };
  });

  afterAll(async () => {
    await server?.close();
    await rm(workspace, { recursive: true, force: true });
  });

  it('accepts the Host names it was given with --allow-host and refuses any other name with 403', async () => {
    const asHost = (host: string) => send(port, { path: '/index.html', headers: { Host: host, ...cookie } });
    expect((await asHost(`gpu-box:${port}`)).status).toBe(200);
    expect((await asHost(`GPU-Box:${port}`)).status).toBe(200);
    expect((await asHost(`localhost:${port}`)).status).toBe(200);
    expect((await asHost(`[::1]:${port}`)).status).toBe(200);
    expect((await asHost(`evil.example:${port}`)).status).toBe(403);
    expect((await asHost(`gpu-box.evil.example:${port}`)).status).toBe(403);
    expect(await handshake(port, '/events', { Host: `evil.example:${port}`, ...cookie })).toBe('403');
  });

  it('refuses another name when no --allow-host was given', async () => {
    const plain = await startHttpTransport((emit) => createAppServices({ transport: 'http', workspace, allowedRoots: [], emit }), { host: '127.0.0.1', port: 0, rendererDir: join(workspace, 'renderer'), token });
    try {
      const reply = await send(plain.port, { path: '/index.html', headers: { Host: `gpu-box:${plain.port}`, Cookie: `covseg_token_${plain.port}=${token}` } });
      expect(reply.status).toBe(403);
      expect(reply.body).toMatch(/--allow-host/);
    } finally {
      await plain.close();
    }
  });

  it('exchanges the URL token for a SameSite=Strict HttpOnly cookie on the page route and moves on to the URL without it', async () => {
    const reply = await send(port, { path: `/?token=${token}` });
    expect(reply.status).toBe(200);
    const setCookie = reply.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toContain(`covseg_token_${port}=${token}`);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(reply.body).toContain('http-equiv="refresh" content="0;url=/"');
    expect(reply.body).not.toContain(token);
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect((await send(port, { path: '/?token=wrong' })).status).toBe(401);
    expect((await send(port, { path: '/index.html', headers: cookie })).body).toContain('<title>app</title>');
  });

  it('accepts the query-string token on the page route only: not on API, asset or socket routes', async () => {
    expect((await send(port, { method: 'POST', path: `/api/system/info?token=${token}` })).status).toBe(401);
    expect((await send(port, { path: `/assets/app.js?token=${token}` })).status).toBe(401);
    expect(await handshake(port, `/events?token=${token}`, {})).toBe('401');
    expect((await post('system/info', {})).json.ok).toBe(true);
    expect((await post('system/info', {}, { Authorization: `Bearer ${token}` })).json.ok).toBe(true);
    expect((await post('system/info', {}, { Cookie: `covseg_token_${port}=wrong` })).status).toBe(401);
    // Cookies ignore ports: a token cookie set by a server on another port is not this server's.
    expect((await post('system/info', {}, { Cookie: `covseg_token_${port + 1}=${token}` })).status).toBe(401);
    expect((await send(port, { path: '/assets/app.js', headers: cookie })).status).toBe(200);
  });

  it('opens sockets only for the server’s own origin (or no origin at all), and refuses cross-origin commands', async () => {
    expect(await handshake(port, '/events', { ...cookie, Origin: `http://127.0.0.1:${port}` })).toBe('open');
    expect(await handshake(port, '/events', { ...cookie, Host: `gpu-box:${port}`, Origin: `http://gpu-box:${port}` })).toBe('open');
    expect(await handshake(port, '/events', cookie)).toBe('open');
    expect(await handshake(port, '/events', { ...cookie, Origin: 'http://evil.example' })).toBe('403');
    expect(await handshake(port, '/events', { ...cookie, Origin: `http://localhost:${port}` })).toBe('403');
    expect(await handshake(port, '/events', { ...cookie, Origin: 'null' })).toBe('403');
    expect(await handshake(port, '/events', { Origin: `http://127.0.0.1:${port}` })).toBe('401');
    expect((await post('system/info', {}, { ...cookie, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await post('system/info', {}, { ...cookie, Origin: `http://127.0.0.1:${port}` })).json.ok).toBe(true);
  });

  it('answers a malformed URL escape with 400 and never serves files outside the app', async () => {
    const malformed = await send(port, { path: '/%E0%A4%A', headers: cookie });
    expect(malformed.status).toBe(400);
    expect((await send(port, { path: '/assets/%E0%A4%A.js', headers: cookie })).status).toBe(400);
    for (const path of ['/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/%00']) {
      const reply = await send(port, { path, headers: cookie });
      expect([400, 403, 404]).toContain(reply.status);
      expect(reply.body).not.toContain('not for the browser');
    }
  });

  it('refuses run ids that leave the runs folder, in the contract and in the service, and accepts names like ..v2', async () => {
    for (const runId of ['..', '.', '../runs', 'a/b', '..\\x', '/etc']) {
      const reply = await post('runs/get', { runId });
      expect(reply.json.error?.code, runId).toBe('invalid-argument');
    }
    expect((await post('runs/get', { runId: '..v2' })).json.error?.code).toBe('not-found');
    const runs = new RunsService(join(workspace, 'runs'), new DatasetService(new FileAccess([])), () => false);
    await expect(runs.get('..')).rejects.toThrow(/invalid run id/);
  });

  it('gives the same answer for a missing and an existing path outside the allowed folders', async () => {
    const existing = await post('datasets/open', { path: outside });
    const missing = await post('datasets/open', { path: join(outside, 'no-such-folder') });
    const nowhere = await post('datasets/open', { path: '/no/such/place/at/all' });
    expect(existing.json.error?.message).toMatch(/outside the folders the app may read/);
    for (const other of [missing, nowhere]) {
      expect(other.json.error?.code).toBe(existing.json.error?.code);
      expect(other.json.error?.message).toBe(existing.json.error?.message);
      expect(other.json.error?.details?.fix).toBe(existing.json.error?.details?.fix);
    }
    // Inside an allowed folder, saying that a path is missing reveals nothing new.
    expect((await post('datasets/open', { path: join(root, 'no-such-folder') })).json.error?.message).toBe('folder does not exist');
  });

  it('opens a folder named ..scans inside an allowed folder', async () => {
    const opened = await post('datasets/open', { path: join(root, '..scans') });
    expect(opened.json.error).toBeUndefined();
    expect((opened.json.value as { report: { validSlices: number } }).report.validSlices).toBe(1);
  });

  it('refuses a dataset whose files link outside the allowed folders, and re-checks links on every read', async () => {
    const linked = join(root, 'linked');
    await writePair(linked, 'own');
    await symlink(join(outside, 'frames', 'private.png'), join(linked, 'frames', 'stolen.png'));
    await symlink(join(outside, 'masks', 'private.png'), join(linked, 'masks', 'stolen.png'));
    const refused = await post('datasets/open', { path: linked });
    expect(refused.json.error?.message).toMatch(/links to a file or folder outside/);
    expect(refused.json.error?.details?.file).toBe(join(linked, 'frames', 'stolen.png'));

    const linkedFolder = join(root, 'linked-folder');
    await mkdir(linkedFolder);
    await symlink(join(outside, 'frames'), join(linkedFolder, 'frames'));
    await symlink(join(outside, 'masks'), join(linkedFolder, 'masks'));
    expect((await post('datasets/open', { path: linkedFolder })).json.error?.message).toMatch(/links to a file or folder outside/);

    // Opened while clean, then a frame is swapped for a link: the next read refuses it.
    const swapped = join(root, 'swapped');
    await writePair(swapped, 'one');
    const opened = await post('datasets/open', { path: swapped });
    const datasetId = (opened.json.value as { id: string }).id;
    expect((await post('slices/get', { datasetId, sliceId: 'one' })).json.ok).toBe(true);
    await unlink(join(swapped, 'frames', 'one.png'));
    await symlink(join(outside, 'frames', 'private.png'), join(swapped, 'frames', 'one.png'));
    const reread = await post('slices/get', { datasetId, sliceId: 'one' });
    expect(reread.json.ok).toBe(false);
    expect(reread.json.error?.message).toMatch(/links to a file or folder outside/);
  });
});
