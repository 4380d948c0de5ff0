import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src-shared/content-security-policy';

const directives = (policy: string) => new Map(policy.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));

describe('the Content-Security-Policy', () => {
  it('allows connections to its own origin only, and no inline scripts or styles', () => {
    const policy = directives(contentSecurityPolicy({ delivery: 'header' }));
    expect(policy.get('connect-src')).toEqual(["'self'"]);
    expect(policy.get('script-src')).toEqual(["'self'"]);
    expect(policy.get('style-src')).toEqual(["'self'"]);
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('frame-ancestors')).toEqual(["'none'"]);
    expect(contentSecurityPolicy({ delivery: 'header' })).not.toMatch(/ws:|wss:|\*|unsafe-eval/);
  });

  it('leaves frame-ancestors out of the meta tag (ignored there) and allows inline styles only for the dev server', () => {
    expect(directives(contentSecurityPolicy({ delivery: 'meta' })).has('frame-ancestors')).toBe(false);
    expect(directives(contentSecurityPolicy({ delivery: 'meta', dev: true })).get('style-src')).toContain("'unsafe-inline'");
  });

  it('is the policy written into the built index.html', async () => {
    const built = resolve(import.meta.dirname, '../../out/renderer/index.html');
    if (!existsSync(built)) {
      console.warn('[tests] out/renderer is absent (run `npm run build`): the built index.html is not checked.');
      return;
    }
    expect(await readFile(built, 'utf8')).toContain(`content="${contentSecurityPolicy({ delivery: 'meta' })}"`);
  });
});
