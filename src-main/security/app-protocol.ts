import { resolveRendererFile, type RendererFile } from './renderer-files';

/** The custom scheme the desktop app serves its renderer from, instead of `file://`. */
export const APP_SCHEME = 'app';
/** The one host of that scheme; with a standard scheme it makes `app://covseg` a real origin. */
export const APP_HOST = 'covseg';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** Where the window starts. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Maps an `app://covseg/...` request to a file of the renderer build; any other scheme or host,
 * a malformed URL or a path leaving the build folder is refused.
 */
export function resolveAppRequest(rendererDir: string, requestUrl: string): RendererFile {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { ok: false, status: 400, reason: 'malformed URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { ok: false, status: 403, reason: 'not this app' };
  return resolveRendererFile(rendererDir, url.pathname);
}

/**
 * The origin of a URL as Chromium sees it. Node's URL parser reports `null` as the origin of any
 * non-special scheme, `app:` included, although Chromium gives a standard scheme a real origin:
 * compare scheme and host instead. Undefined for unparsable URLs and hostless ones (`about:blank`).
 */
export function originOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.origin;
  return parsed.host ? `${parsed.protocol}//${parsed.host}` : undefined;
}
