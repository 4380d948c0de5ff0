import { describe, expect, it } from 'vitest';
import { devRendererUrl, isTrustedSenderUrl, trustedOrigins } from '../../../src-main/security/trusted-sender';

describe('the IPC sender frame check', () => {
  const origins = trustedOrigins();

  it('trusts frames of the app:// origin only', () => {
    // Node's URL gives app: URLs the origin "null"; the check must not depend on that.
    expect(new URL('app://covseg/index.html').origin).toBe('null');
    expect(isTrustedSenderUrl('app://covseg/index.html', origins)).toBe(true);
    expect(isTrustedSenderUrl('app://covseg/index.html#/runs', origins)).toBe(true);
    for (const url of ['file:///opt/covseg/out/renderer/index.html', 'https://covseg.example/', 'app://covseg.evil/index.html', 'http://localhost:5173/', 'about:blank', '', 'garbage']) {
      expect(isTrustedSenderUrl(url, origins), url).toBe(false);
    }
    expect(isTrustedSenderUrl(undefined, origins)).toBe(false);
    expect(isTrustedSenderUrl(null, origins)).toBe(false);
  });

  it('adds the dev server origin only when the app runs unpackaged from a local dev server', () => {
    const dev = devRendererUrl('http://localhost:5173/', false);
    expect(dev).toBe('http://localhost:5173/');
    expect(isTrustedSenderUrl('http://localhost:5173/index.html', trustedOrigins(dev))).toBe(true);
    expect(devRendererUrl('http://localhost:5173/', true)).toBeUndefined();
    expect(devRendererUrl('https://evil.example/', false)).toBeUndefined();
    expect(devRendererUrl('http://192.168.1.9:5173/', false)).toBeUndefined();
    expect(devRendererUrl(undefined, false)).toBeUndefined();
    expect(trustedOrigins(undefined)).toEqual(['app://covseg']);
  });
});
