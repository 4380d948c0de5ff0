import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRendererFile } from '../../../src-main/security/renderer-files';

const ROOT = resolve('/srv/app/renderer');

describe('resolveRendererFile', () => {
  it('maps request paths to files of the build, / to index.html, with their content type', () => {
    expect(resolveRendererFile(ROOT, '/')).toEqual({ ok: true, file: join(ROOT, 'index.html'), contentType: 'text/html; charset=utf-8' });
    expect(resolveRendererFile(ROOT, '/assets/index-1.js')).toMatchObject({ ok: true, file: join(ROOT, 'assets', 'index-1.js'), contentType: 'text/javascript; charset=utf-8' });
    expect(resolveRendererFile(ROOT, '/assets/a%20b.css')).toMatchObject({ ok: true, file: join(ROOT, 'assets', 'a b.css') });
    expect(resolveRendererFile(ROOT, '/data.bin')).toMatchObject({ ok: true, contentType: 'application/octet-stream' });
  });

  it('keeps names that merely start with two dots', () => {
    expect(resolveRendererFile(ROOT, '/..hidden.js')).toMatchObject({ ok: true, file: join(ROOT, '..hidden.js') });
  });

  it('answers malformed escapes and NUL bytes with 400', () => {
    expect(resolveRendererFile(ROOT, '/%E0%A4%A')).toMatchObject({ ok: false, status: 400 });
    expect(resolveRendererFile(ROOT, '/index.html%00.png')).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses every way out of the build folder, encoded or not', () => {
    for (const path of ['/../secret', '/assets/../../secret', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/..']) {
      const found = resolveRendererFile(ROOT, path);
      expect(found.ok ? found.file.startsWith(`${ROOT}/`) : found.status, path).toBe(found.ok ? true : 403);
    }
    expect(resolveRendererFile(ROOT, '/%2e%2e')).toMatchObject({ ok: false, status: 403 });
  });
});
