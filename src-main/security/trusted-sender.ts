import { APP_ORIGIN, originOf } from './app-protocol';

/**
 * The origins whose frames may call the IPC contract: the app's own `app://covseg`, plus the
 * electron-vite dev server's origin when the app runs in development (`ELECTRON_RENDERER_URL`).
 */
export function trustedOrigins(devServerUrl?: string): string[] {
  const origins = [APP_ORIGIN];
  if (devServerUrl) {
    try {
      origins.push(new URL(devServerUrl).origin);
    } catch {
      // An unparsable dev URL adds nothing: the app origin alone stays trusted.
    }
  }
  return origins;
}

/**
 * True when the URL of the frame that sent an IPC message belongs to a trusted origin. A missing
 * frame (destroyed or navigated away) or an unparsable URL is not trusted; an iframe or a page
 * navigated elsewhere inside one of our windows fails here even though its window is ours.
 */
export function isTrustedSenderUrl(frameUrl: string | undefined | null, origins: readonly string[]): boolean {
  const origin = frameUrl ? originOf(frameUrl) : undefined;
  return origin !== undefined && origins.includes(origin);
}

/**
 * The electron-vite dev server URL to load instead of `app://`, honoured only in an unpackaged app
 * and only on this machine: in a packaged app an environment variable must not be able to point the
 * window, and the API its preload exposes, at a remote page.
 */
export function devRendererUrl(value: string | undefined, isPackaged: boolean): string | undefined {
  if (isPackaged || !value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) ? value : undefined;
  } catch {
    return undefined;
  }
}
