import { homedir } from 'node:os';
import { join } from 'node:path';
import { CovsegError } from '../engine/errors';

/**
 * A folder path as a person types it, made into the one they mean: surrounding spaces (pasted
 * paths carry them) dropped, and a leading `~` taken as their home folder, as a shell would (Node
 * would otherwise read it as a folder named `~` in the server's working folder).
 */
export function normaliseDatasetPath(raw: string, home = homedir()): string {
  const path = raw.trim();
  if (path === '') throw new CovsegError('bad-parameter', 'no folder given', { fix: 'type the path of a dataset folder (or choose one with Browse…), or open the built-in sample' });
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}
