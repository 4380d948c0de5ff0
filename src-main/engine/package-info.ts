import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'covseg-studio';

let root: string | undefined;

/**
 * The folder of CovSeg's package.json, found by walking up from this module: the same answer from
 * the sources (src-main/engine/), the bundled CLI (out/cli/) and the Electron build (out/main/),
 * whose depths differ, so no fixed `../..` is right for all of them.
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`cannot find ${PACKAGE_NAME}'s package.json above ${import.meta.dirname}`);
  }
}

/** CovSeg's version from its package.json. */
export function covsegVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
