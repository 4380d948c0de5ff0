import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import { CovsegError } from '../errors';
import { acquireFolderLock } from '../runs/run-lock';
import { updatePairs } from './pairs-file';

/** How long a writer waits for another process's short read-modify-write of the same pairs.jsonl. */
const WAIT_MS = 10_000;

/**
 * {@link updatePairs} under the folder's lock, held only for the read-modify-write itself, so the
 * gallery, `covseg gan curate` and `covseg gan check` in different processes never overwrite each
 * other's changes; a writer that holds the lock longer (e.g. a generator) makes this fail as busy.
 */
export async function updatePairsLocked<T>(pairsDir: string, purpose: string, change: (pairs: GeneratedPair[]) => T): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let lock;
    try {
      lock = await acquireFolderLock(pairsDir, purpose);
    } catch (error) {
      if (error instanceof CovsegError && error.code === 'busy' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        continue;
      }
      throw error;
    }
    try {
      return await updatePairs(pairsDir, change);
    } finally {
      await lock.release();
    }
  }
}
