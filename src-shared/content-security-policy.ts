/**
 * The app's Content-Security-Policy, one definition for the three places that deliver it: the
 * `<meta>` tag of the built index.html, the `covseg serve` response header and the Electron
 * `app://` protocol's response header.
 *
 * - `connect-src 'self'` covers the server's own WebSocket (CSP Level 3 lets `'self'` match `ws:`
 *   and `wss:` of the same host and port), so no socket to any other host is allowed.
 * - No `'unsafe-inline'` for scripts or styles: Vue and chart.js set styles through the CSSOM
 *   (`element.style.x = ...`), which CSP does not restrict. Only Vite's dev server injects
 *   `<style>` elements, hence the `dev` exception.
 * - `frame-ancestors` is ignored (with a console warning) in a `<meta>` tag, so only headers carry it.
 */
export function contentSecurityPolicy(options: { delivery: 'header' | 'meta'; dev?: boolean }): string {
  const directives: [string, ...string[]][] = [
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['style-src', "'self'", ...(options.dev ? ["'unsafe-inline'"] : [])],
    ['img-src', "'self'", 'data:', 'blob:'],
    ['font-src', "'self'"],
    ['connect-src', "'self'"],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    ['form-action', "'none'"],
  ];
  if (options.delivery === 'header') directives.push(['frame-ancestors', "'none'"]);
  return directives.map((d) => d.join(' ')).join('; ');
}
