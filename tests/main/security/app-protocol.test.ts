import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, APP_ORIGIN, resolveAppRequest } from '../../../src-main/security/app-protocol';

const ROOT = resolve('/opt/covseg/resources/app.asar/out/renderer');

describe('the app:// protocol', () => {
  it('is a real origin whose entry is index.html of the build', () => {
    expect(new URL(APP_ENTRY_URL).pathname).toBe('/index.html');
    expect(APP_ORIGIN).toBe('app://covseg');
    expect(resolveAppRequest(ROOT, APP_ENTRY_URL)).toMatchObject({ ok: true, file: join(ROOT, 'index.html') });
    expect(resolveAppRequest(ROOT, 'app://covseg/assets/index-2.css?v=1')).toMatchObject({ ok: true, file: join(ROOT, 'assets', 'index-2.css'), contentType: 'text/css; charset=utf-8' });
  });

  it('refuses other schemes and hosts, malformed URLs and traversal', () => {
    expect(resolveAppRequest(ROOT, 'file:///etc/passwd')).toMatchObject({ ok: false, status: 403 });
    expect(resolveAppRequest(ROOT, 'app://other/index.html')).toMatchObject({ ok: false, status: 403 });
    expect(resolveAppRequest(ROOT, 'not a url')).toMatchObject({ ok: false, status: 400 });
    expect(resolveAppRequest(ROOT, 'app://covseg/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
    // Encoded or folded by the URL parser, climbing dots end inside the build, never beside it.
    for (const url of ['app://covseg/..%2f..%2f..%2fetc/passwd', 'app://covseg/../../../etc/passwd', 'app://covseg/assets/%2e%2e/%2e%2e/etc/passwd']) {
      expect(resolveAppRequest(ROOT, url)).toEqual({ ok: true, file: join(ROOT, 'etc', 'passwd'), contentType: 'application/octet-stream' });
    }
  });
});
