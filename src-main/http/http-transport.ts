import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventChannel } from '../../src-shared/contract';
import { contentSecurityPolicy } from '../../src-shared/content-security-policy';
import { resolveRendererFile } from '../security/renderer-files';
import type { AppServices } from '../services/app-services';
import { allowedHostNames, hostAllowed, isWildcard, originAllowed, requestToken, tokenCookieName } from './request-checks';

const MAX_BODY = 1 << 20;
const CSP = contentSecurityPolicy({ delivery: 'header' });
/** The routes that load the app's page: the only ones where `?token=` is exchanged for the cookie. */
const PAGE_ROUTES = ['/', '/index.html'];

export interface HttpTransportOptions {
  host: string;
  port: number;
  rendererDir: string;
  /** Given in tests; otherwise random. */
  token?: string;
  /** More names the Host header may carry (`--allow-host`), e.g. the machine's LAN name. */
  allowHosts?: string[];
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

function send(response: ServerResponse, status: number, body: string | Buffer, type = 'application/json', extra: Record<string, string> = {}): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    ...extra,
  });
  response.end(body);
}

function parseRequestUrl(raw: string | undefined): URL | undefined {
  try {
    return new URL(raw ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

const json = (value: unknown) => JSON.stringify(value);

/**
 * The answer to the printed `/?token=...` URL: sets the token cookie and moves on to the same page
 * without the token. A meta refresh rather than a 302: the refresh is a navigation started by this
 * page itself, so the browser sends the SameSite=Strict cookie even when the link was clicked on
 * another site (after a cross-site 302 it would not), and it replaces the history entry, so the
 * token leaves the address bar and the back button.
 */
function exchangePage(response: ServerResponse, cookie: string, token: string, target: string): void {
  const html = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${target}"><title>CovSeg Studio</title><p>Opening <a href="${target}">CovSeg Studio</a>...</p>`;
  send(response, 200, html, 'text/html; charset=utf-8', { 'Set-Cookie': `${cookie}=${token}; HttpOnly; SameSite=Strict; Path=/` });
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
  const allowed = allowedHostNames(options.host, options.allowHosts);
  // The port is known once listening (port 0 picks one); requests only arrive after that.
  const cookie = () => tokenCookieName((server.address() as AddressInfo).port);
  const refuse = (response: ServerResponse, status: number, error: string) => send(response, status, json({ error }));

  const server = createServer(async (request, response) => {
    try {
      if (!hostAllowed(request.headers.host, allowed)) {
        return refuse(response, 403, `unexpected Host header: start covseg serve with --allow-host NAME to reach it by another name`);
      }
      const url = parseRequestUrl(request.url);
      if (!url) return refuse(response, 400, 'malformed URL');
      if (request.method === 'GET' && PAGE_ROUTES.includes(url.pathname) && url.searchParams.has('token')) {
        if (!sameToken(url.searchParams.get('token') ?? undefined, token)) return refuse(response, 401, 'wrong token: open the URL `covseg serve` printed');
        return exchangePage(response, cookie(), token, url.pathname);
      }
      if (!sameToken(requestToken(request.headers, cookie()), token)) return refuse(response, 401, 'missing or wrong token: open the URL `covseg serve` printed');
      if (url.pathname.startsWith('/api/')) {
        if (request.method !== 'POST') return refuse(response, 405, 'use POST');
        // With the cookie, a page of another site could make the browser send commands: only our own pages may.
        if (!originAllowed(request.headers.origin, request.headers.host)) return refuse(response, 403, 'cross-origin request refused');
        const channel = url.pathname.slice(5).replace('/', ':');
        let body: unknown = {};
        try {
          const text = await readBody(request);
          body = text ? JSON.parse(text) : {};
        } catch (error) {
          return send(response, 400, json({ ok: false, error: { code: 'invalid-argument', message: (error as Error).message } }));
        }
        return send(response, 200, json(await app.dispatch(channel, body)));
      }
      if (request.method !== 'GET') return refuse(response, 405, 'use GET');
      const found = resolveRendererFile(rendererDir, url.pathname);
      if (!found.ok) return refuse(response, found.status, found.reason);
      try {
        if (!(await stat(found.file)).isFile()) throw new Error('not a file');
      } catch {
        return refuse(response, 404, 'not found');
      }
      return send(response, 200, await readFile(found.file), found.contentType);
    } catch (error) {
      send(response, 500, json({ error: (error as Error).message }));
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (request, socket, head) => {
    const reject = (status: string) => {
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    const url = parseRequestUrl(request.url);
    if (!url) return reject('400 Bad Request');
    // Browsers let any site open a WebSocket to any address and send our cookie with it: check Origin.
    if (!hostAllowed(request.headers.host, allowed) || !originAllowed(request.headers.origin, request.headers.host)) return reject('403 Forbidden');
    if (url.pathname !== '/events') return reject('404 Not Found');
    if (!sameToken(requestToken(request.headers, cookie()), token)) return reject('401 Unauthorized');
    wss.handleUpgrade(request, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  // Bound to every interface, the URL names the first allowed host (or this machine's loopback).
  const urlHost = isWildcard(options.host) ? (options.allowHosts?.[0] ?? '127.0.0.1') : options.host;
  const shownHost = urlHost.includes(':') ? `[${urlHost}]` : urlHost;
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
