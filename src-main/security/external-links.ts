import { originOf } from './app-protocol';

/**
 * Hosts the desktop app may hand to the operating system (`shell.openExternal`): the project's
 * pages only. Anything else a page asks to open is dropped.
 */
export const EXTERNAL_HOSTS: readonly string[] = ['github.com', 'www.electronjs.org'];

/**
 * True when `url` may be opened in the user's browser: `https:` only (no `file:`, `smb:`, custom
 * handlers or scripts), no user name or password in it, the default port, and a host on the
 * allow-list compared exactly (so `github.com.evil.example` is refused).
 */
export function isAllowedExternalUrl(url: string, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && parsed.port === '' && hosts.includes(parsed.hostname);
}

/** What to do with a navigation or a request for a new window. */
export type NavigationDecision = 'stay' | 'open-external' | 'deny';

/**
 * In-app navigation (a reload, the app's own pages) stays; an allow-listed `https:` page opens in
 * the user's browser instead; everything else is dropped. New windows never stay: pass
 * `appOrigins` empty for them.
 */
export function decideNavigation(url: string, appOrigins: readonly string[], hosts: readonly string[] = EXTERNAL_HOSTS): NavigationDecision {
  const origin = originOf(url);
  if (origin !== undefined && appOrigins.includes(origin)) return 'stay';
  return isAllowedExternalUrl(url, hosts) ? 'open-external' : 'deny';
}
