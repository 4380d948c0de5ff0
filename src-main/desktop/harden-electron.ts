import { readFile } from 'node:fs/promises';
import { app, protocol, session, shell, type WebContents } from 'electron';
import { contentSecurityPolicy } from '../../src-shared/content-security-policy';
import { APP_SCHEME, resolveAppRequest } from '../security/app-protocol';
import { decideNavigation } from '../security/external-links';

// Electron wiring of the security checklist; the decisions themselves live in ../security (plain
// modules with tests), so this file only connects them to Electron's hooks.

const CSP = contentSecurityPolicy({ delivery: 'header' });

/** Must run before `app.whenReady()`: makes `app://` a standard, secure origin instead of `file://`. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
}

/** Serves the renderer build under `app://covseg/`, refusing paths outside it, with the CSP as a header. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const found = resolveAppRequest(rendererDir, request.url);
    if (!found.ok) return new Response(found.reason, { status: found.status });
    try {
      const body = await readFile(found.file);
      return new Response(body, { headers: { 'Content-Type': found.contentType, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' } });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

/** The app needs no camera, notifications, clipboard reading or any other permission: deny all. */
export function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function openOutside(url: string): void {
  // Deferred, as Electron advises, so the OS handler never runs inside the navigation event.
  setImmediate(() => void shell.openExternal(url));
}

/** Limits navigation and new windows of every web contents, present and future, to `appOrigins`. */
export function limitNavigation(appOrigins: readonly string[]): void {
  const limit = (contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      const decision = decideNavigation(url, appOrigins);
      if (decision === 'stay') return;
      event.preventDefault();
      if (decision === 'open-external') openOutside(url);
    });
    contents.on('will-redirect', (event, url) => {
      if (decideNavigation(url, appOrigins) !== 'stay') event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      if (decideNavigation(url, []) === 'open-external') openOutside(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  };
  app.on('web-contents-created', (_event, contents) => limit(contents));
}
