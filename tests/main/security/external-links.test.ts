import { describe, expect, it } from 'vitest';
import { decideNavigation, isAllowedExternalUrl } from '../../../src-main/security/external-links';

describe('what the desktop app hands to the operating system', () => {
  it('opens https pages of allow-listed hosts only', () => {
    expect(isAllowedExternalUrl('https://github.com/covseg/issues')).toBe(true);
    for (const url of [
      'http://github.com/',
      'https://github.com.evil.example/',
      'https://evil.example/?https://github.com',
      'https://user:pass@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'smb://server/share',
      'javascript:alert(1)',
      'ms-msdt:/id',
      'not a url',
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });

  it('lets in-app navigation stay, sends allow-listed pages outside and drops the rest', () => {
    const app = ['app://covseg'];
    expect(decideNavigation('app://covseg/index.html', app)).toBe('stay');
    expect(decideNavigation('https://github.com/x', app)).toBe('open-external');
    expect(decideNavigation('https://evil.example/', app)).toBe('deny');
    expect(decideNavigation('file:///etc/passwd', app)).toBe('deny');
    expect(decideNavigation('::::', app)).toBe('deny');
    // New windows pass no app origin: even the app's own URL does not open a window.
    expect(decideNavigation('app://covseg/index.html', [])).toBe('deny');
  });
});
