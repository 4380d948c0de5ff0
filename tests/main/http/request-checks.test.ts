import { describe, expect, it } from 'vitest';
import { allowedHostNames, hostAllowed, hostName, isLoopback, originAllowed, requestToken, tokenCookieName } from '../../../src-main/http/request-checks';

describe('request checks of covseg serve', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '192.168.1.4', '::', 'gpu-box', '127.0.0.1.evil.example']) expect(isLoopback(host), host).toBe(false);
  });

  it('allows loopback names, the bound address unless it is a wildcard, and --allow-host names', () => {
    expect(allowedHostNames('127.0.0.1')).toEqual(['127.0.0.1', 'localhost', '::1']);
    expect(allowedHostNames('0.0.0.0', ['GPU-Box', '[fd00::2]'])).toEqual(['127.0.0.1', 'localhost', '::1', 'gpu-box', 'fd00::2']);
    expect(allowedHostNames('192.168.1.4')).toContain('192.168.1.4');
    expect(allowedHostNames('::')).not.toContain('::');
  });

  it('reads the name of a Host header and compares it exactly', () => {
    expect(hostName('gpu-box:8765')).toBe('gpu-box');
    expect(hostName('[::1]:8765')).toBe('::1');
    expect(hostName('LOCALHOST')).toBe('localhost');
    const allowed = allowedHostNames('127.0.0.1', ['gpu-box']);
    expect(hostAllowed('gpu-box:8765', allowed)).toBe(true);
    expect(hostAllowed('gpu-box.evil.example:8765', allowed)).toBe(false);
    expect(hostAllowed(undefined, allowed)).toBe(false);
    expect(hostAllowed('', allowed)).toBe(false);
  });

  it('accepts the page’s own origin (also through a tunnel on another port) or none, and nothing else', () => {
    expect(originAllowed('http://localhost:9000', 'localhost:9000')).toBe(true);
    expect(originAllowed(undefined, 'localhost:9000')).toBe(true);
    expect(originAllowed('http://localhost:9001', 'localhost:9000')).toBe(false);
    expect(originAllowed('http://evil.example', 'localhost:9000')).toBe(false);
    expect(originAllowed('null', 'localhost:9000')).toBe(false);
    expect(originAllowed('file://', 'localhost:9000')).toBe(false);
    expect(originAllowed('http://localhost:9000', undefined)).toBe(false);
  });

  it('takes the token from a bearer header or the cookie, never from elsewhere', () => {
    const name = tokenCookieName(8765);
    expect(requestToken({ authorization: 'Bearer abc' }, name)).toBe('abc');
    expect(requestToken({ cookie: `other=1; ${name}=xyz; more=2` }, name)).toBe('xyz');
    // Another server's cookie on the same host (cookies ignore ports) is not this server's token.
    expect(requestToken({ cookie: `${tokenCookieName(8766)}=xyz` }, name)).toBeUndefined();
    expect(requestToken({ authorization: 'Basic abc' }, name)).toBeUndefined();
    expect(requestToken({}, name)).toBeUndefined();
  });
});
