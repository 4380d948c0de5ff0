import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CovsegError } from '../engine/errors';

/** The dataset layouts CovSeg reads are at most two levels deep (`ROOT/frames/NAME.png`). */
const DATASET_DEPTH = 2;

/** True when `child` is `parent` or lies under it; `..name` is an ordinary name, not a way up. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

async function realOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

/**
 * Which folders the app may read: the allowed roots (server mode), folders the user picked in a
 * dialog (Electron) and the built-in sample. Symlinks are resolved before checking, so a link
 * cannot lead outside, and a path outside gets the same answer whether it exists or not.
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

  private async realRoots(): Promise<string[]> {
    const real = await Promise.all([...this.granted].map(realOrUndefined));
    return real.filter((r): r is string => r !== undefined);
  }

  private outside(path: string): CovsegError {
    return new CovsegError('bad-parameter', 'this folder is outside the folders the app may read', {
      file: path,
      fix: `open a folder under ${[...this.granted].join(', ') || 'a folder chosen in the dialog'} (start \`covseg serve --data DIR\` to allow another)`,
    });
  }

  /**
   * Resolves `path` (symlinks included) and returns it when it lies under a granted folder. A
   * missing path is reported as missing only when its nearest existing ancestor is itself under a
   * granted folder; anywhere else the error is the same as for an existing forbidden path, so the
   * answer says nothing about the rest of the disk.
   */
  async check(path: string): Promise<string> {
    const absolute = resolve(path);
    const roots = await this.realRoots();
    const real = await realOrUndefined(absolute);
    if (real !== undefined) {
      if (roots.some((root) => isInside(root, real))) return real;
      throw this.outside(absolute);
    }
    let ancestor = dirname(absolute);
    let realAncestor = await realOrUndefined(ancestor);
    while (realAncestor === undefined && dirname(ancestor) !== ancestor) {
      ancestor = dirname(ancestor);
      realAncestor = await realOrUndefined(ancestor);
    }
    if (realAncestor !== undefined && roots.some((root) => isInside(root, realAncestor))) {
      throw new CovsegError('not-found', 'folder does not exist', { file: absolute, fix: 'check the path' });
    }
    throw this.outside(absolute);
  }

  /**
   * Refuses a dataset folder that holds a symlink (file or folder, down to the depth the dataset
   * layouts use) leading outside the granted folders. Dangling links are left to the dataset
   * reader, which reports them as unreadable files.
   */
  async confineTree(root: string): Promise<void> {
    const roots = await this.realRoots();
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        let isDirectory = entry.isDirectory();
        if (entry.isSymbolicLink()) {
          const target = await realOrUndefined(path);
          if (target === undefined) continue;
          if (!roots.some((r) => isInside(r, target))) throw this.linkOutside(path);
          isDirectory = (await stat(target)).isDirectory();
        }
        if (isDirectory && depth < DATASET_DEPTH) await walk(path, depth + 1);
      }
    };
    await walk(root, 1);
  }

  /** Throws unless every existing file given resolves to a place under a granted folder. */
  async checkFiles(files: string[]): Promise<void> {
    const roots = await this.realRoots();
    for (const file of files) {
      const real = await realOrUndefined(file);
      if (real !== undefined && !roots.some((r) => isInside(r, real))) throw this.linkOutside(file);
    }
  }

  private linkOutside(path: string): CovsegError {
    return new CovsegError('bad-parameter', 'this dataset links to a file or folder outside the folders the app may read', {
      file: path,
      fix: 'replace the link with a copy, or allow the folder it points to (`covseg serve --data DIR`; in the desktop app, pick that folder once)',
    });
  }
}
