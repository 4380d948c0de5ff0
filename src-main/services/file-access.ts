import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { CovsegError } from '../engine/errors';

/**
 * Which folders the app may read: the allowed roots (server mode), folders the user picked in a
 * dialog (Electron) and the built-in sample. Symlinks are resolved before checking, so a link
 * cannot lead outside.
 */
export class FileAccess {
  private readonly granted = new Set<string>();

  constructor(roots: string[]) {
    for (const root of roots) this.granted.add(resolve(root));
  }

  grant(path: string): void {
    this.granted.add(resolve(path));
  }

  get roots(): string[] {
    return [...this.granted];
  }

  /** Resolves `path` and throws `forbidden`-style errors unless it lies under a granted folder. */
  async check(path: string): Promise<string> {
    const absolute = resolve(path);
    let real = absolute;
    try {
      real = await realpath(absolute);
    } catch {
      throw new CovsegError('not-found', 'folder does not exist', { file: absolute, fix: 'check the path' });
    }
    for (const root of this.granted) {
      let realRoot = root;
      try {
        realRoot = await realpath(root);
      } catch {
        continue;
      }
      const rel = relative(realRoot, real);
      if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return real;
    }
    throw new CovsegError('bad-parameter', 'this folder is outside the folders the app may read', {
      file: absolute,
      fix: `open a folder under ${[...this.granted].join(', ') || 'a folder chosen in the dialog'} (start \`covseg serve --data DIR\` to allow another)`,
    });
  }
}
