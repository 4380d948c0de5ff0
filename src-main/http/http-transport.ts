import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventChannel } from '../../src-shared/contract';
import type { AppServices } from '../services/app-services';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const MAX_BODY = 1 << 20;
const COOKIE = 'covseg_token';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export interface HttpTransportOptions {
  host: string;
  port: number;
  rendererDir: string;
  /** Given in tests; otherwise random. */
  token?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  /** Pushes an event to every authenticated socket. */
  emit(channel: EventChannel, payload: unknown): void;
  close(): Promise<void>;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7);
  const cookie = request.headers.cookie?.split(';').map((c) => c.trim().split('=')).find(([k]) => k === COOKIE)?.[1];
  return cookie ?? url.searchParams.get('token') ?? undefined;
}

function send(response: ServerResponse, status: number, body: string | Buffer, type = 'application/json', extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', ...extra });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Binds the app's services to HTTP (commands: `POST /api/DOMAIN/VERB` with a JSON body) and
 * WebSocket (`/events`: pushed events), and serves the built renderer. A transport only: every
 * request goes to `services.dispatch`.
 */
export async function startHttpTransport(services: (emit: RunningServer['emit']) => AppServices, options: HttpTransportOptions): Promise<RunningServer & { services: AppServices }> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const rendererDir = resolve(options.rendererDir);
  const sockets = new Set<WebSocket>();
  const emit: RunningServer['emit'] = (channel, payload) => {
    const message = JSON.stringify({ channel, payload });
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(message);
  };
  const app = services(emit);
  let port = options.port;
  const hostAllowed = (host: string | undefined) => {
    // Against DNS rebinding: only the names this server is reachable by on this machine.
    if (!host) return false;
    const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return ['127.0.0.1', 'localhost', '::1', options.host].includes(name);
  };

  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (!hostAllowed(request.headers.host)) return send(response, 403, JSON.stringify({ error: 'unexpected Host header' }));
      const given = tokenOf(request, url);
      if (!sameToken(given, token)) return send(response, 401, JSON.stringify({ error: 'missing or wrong token: open the URL `covseg serve` printed' }));
      const setCookie: Record<string, string> = url.searchParams.has('token') ? { 'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` } : {};
      if (url.pathname.startsWith('/api/')) {
        if (request.method !== 'POST') return send(response, 405, JSON.stringify({ error: 'use POST' }));
        const channel = url.pathname.slice(5).replace('/', ':');
        let body: unknown = {};
        try {
          const text = await readBody(request);
          body = text ? JSON.parse(text) : {};
        } catch (error) {
          return send(response, 400, JSON.stringify({ ok: false, error: { code: 'invalid-argument', message: (error as Error).message } }));
        }
        return send(response, 200, JSON.stringify(await app.dispatch(channel, body)));
      }
      if (request.method !== 'GET') return send(response, 405, JSON.stringify({ error: 'use GET' }));
      const path = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
      const file = join(rendererDir, path);
      if (!file.startsWith(rendererDir + sep)) return send(response, 403, JSON.stringify({ error: 'outside the app' }));
      try {
        if (!(await stat(file)).isFile()) throw new Error('not a file');
      } catch {
        return send(response, 404, JSON.stringify({ error: 'not found' }));
      }
      return send(response, 200, await readFile(file), MIME[extname(file)] ?? 'application/octet-stream', setCookie);
    } catch (error) {
      send(response, 500, JSON.stringify({ error: (error as Error).message }));
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/events' || !hostAllowed(request.headers.host) || !sameToken(tokenOf(request, url), token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    emit,
    services: app,
    close: async () => {
      app.dispose();
      for (const socket of sockets) socket.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
