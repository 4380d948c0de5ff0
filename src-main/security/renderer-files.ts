import { extname, join, normalize, resolve } from 'node:path';
import { isInside } from '../services/file-access';

/** Content types of the files a renderer build contains. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export type RendererFile =
  | { ok: true; file: string; contentType: string }
  | { ok: false; status: 400 | 403; reason: string };

/**
 * Maps the path of a request URL (still percent-encoded, as it arrives) to a file of the renderer
 * build, for `covseg serve` and Electron's `app://` protocol alike. A malformed escape (`%E0%A4%A`)
 * or a NUL byte is a bad request; anything that resolves outside `rendererDir` is refused. Whether
 * the file exists is the caller's concern.
 */
export function resolveRendererFile(rendererDir: string, pathname: string): RendererFile {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { ok: false, status: 400, reason: 'malformed URL escape' };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'NUL byte in the path' };
  const root = resolve(rendererDir);
  // normalize() of an absolute path cannot climb above `/`, and resolve() drops a trailing slash,
  // so `/..` lands on the folder itself (refused below) rather than beside it.
  const file = resolve(join(root, normalize(decoded === '/' || decoded === '' ? '/index.html' : decoded)));
  if (file === root || !isInside(root, file)) return { ok: false, status: 403, reason: 'outside the app' };
  return { ok: true, file, contentType: MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
}
