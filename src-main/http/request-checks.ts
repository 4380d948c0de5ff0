import type { IncomingHttpHeaders } from 'node:http';

/**
 * The cookie that carries the access token after the first page load. Cookies are shared by all
 * ports of a host, so the name carries the server's port: two servers on one machine keep apart.
 */
export function tokenCookieName(port: number): string {
  return `covseg_token_${port}`;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];
const WILDCARD_ADDRESSES = ['0.0.0.0', '::'];

/** True for addresses only this machine can reach (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.includes(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** True for `0.0.0.0` / `::`: bound to every interface, so no single name is implied. */
export function isWildcard(host: string): boolean {
  return WILDCARD_ADDRESSES.includes(host);
}

/**
 * The host names requests may carry in their Host header (against DNS rebinding): the loopback
 * names, the bound address unless it is a wildcard, and the names given with `--allow-host`.
 */
export function allowedHostNames(bindHost: string, allowHosts: readonly string[] = []): string[] {
  const names = [...LOOPBACK_NAMES, ...(isWildcard(bindHost) ? [] : [bindHost]), ...allowHosts];
  return [...new Set(names.map((n) => n.toLowerCase().replace(/^\[|\]$/g, '')))];
}

/** The name part of a Host header (`gpu-box:8765` -> `gpu-box`, `[::1]:8765` -> `::1`), lower case. */
export function hostName(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  return host.replace(/:\d*$/, '');
}

/** True when the Host header names this server by an allowed name. */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  return hostHeader !== undefined && hostHeader !== '' && allowed.includes(hostName(hostHeader));
}

/**
 * True when the request comes from this server's own pages, or from no page at all. Browsers send
 * `Origin` with every WebSocket handshake and cross-origin POST, so a missing header means a
 * non-browser client (the CLI, a script), which still needs the token. The page's origin must
 * equal the host it asked for: through an SSH tunnel that is `http://localhost:LOCALPORT`.
 */
export function originAllowed(originHeader: string | undefined, hostHeader: string | undefined): boolean {
  if (originHeader === undefined) return true;
  if (!hostHeader) return false;
  let origin: URL;
  try {
    origin = new URL(originHeader);
  } catch {
    return false;
  }
  try {
    return (origin.protocol === 'http:' || origin.protocol === 'https:') && origin.host === new URL(`http://${hostHeader.trim()}`).host;
  } catch {
    return false;
  }
}

/** The token a request carries in an `Authorization: Bearer` header or the cookie `cookieName`; never the query string. */
export function requestToken(headers: IncomingHttpHeaders, cookieName: string): string | undefined {
  const authorization = headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7);
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === cookieName) return part.slice(eq + 1).trim();
  }
  return undefined;
}
