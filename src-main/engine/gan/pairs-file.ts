import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeneratedPair } from '../../../src-shared/contract/gan-pairs';
import { CovsegError } from '../errors';
import { writeFileAtomic } from '../files/atomic-write';

export const PAIRS_FILE = 'pairs.jsonl';

export function pairsFilePath(pairsDir: string): string {
  return join(pairsDir, PAIRS_FILE);
}

/** The pairs of a generated-pairs folder, in file order. A missing pairs.jsonl is an error naming the fix. */
export async function readPairs(pairsDir: string): Promise<GeneratedPair[]> {
  const file = pairsFilePath(pairsDir);
  if (!existsSync(file)) {
    throw new CovsegError('not-found', `${file} does not exist: this is not a generated-pairs folder`, {
      file,
      fix: 'make one with `covseg gan generate --gan GANDIR --count N --out PAIRSDIR`',
    });
  }
  const text = await readFile(file, 'utf8');
  const pairs: GeneratedPair[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let pair: GeneratedPair;
    try {
      pair = JSON.parse(line) as GeneratedPair;
    } catch {
      throw new CovsegError('corrupt-file', `${file} line ${index + 1} is not JSON`, { file, fix: 'restore the file from the generator output or remove the broken line' });
    }
    if (typeof pair.id !== 'string' || !pair.decision || typeof pair.decision.state !== 'string') {
      throw new CovsegError('corrupt-file', `${file} line ${index + 1} is not a pair record (needs id and decision)`, { file, fix: 'restore the file from the generator output' });
    }
    if (seen.has(pair.id)) throw new CovsegError('corrupt-file', `${file} lists pair "${pair.id}" twice`, { file, fix: 'remove the duplicate line' });
    seen.add(pair.id);
    pairs.push(pair);
  });
  return pairs;
}

/** Serialises the pairs one per line; the whole file is replaced atomically (fsync, then rename). */
export async function writePairs(pairsDir: string, pairs: readonly GeneratedPair[]): Promise<void> {
  await writeFileAtomic(pairsFilePath(pairsDir), pairs.map((pair) => JSON.stringify(pair)).join('\n') + (pairs.length ? '\n' : ''));
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write of pairs.jsonl, serialised per folder within this process so that two quick
 * decisions never overwrite each other; the change is on disk (fsync'd) when the promise resolves.
 */
export function updatePairs<T>(pairsDir: string, change: (pairs: GeneratedPair[]) => T): Promise<T> {
  const key = pairsFilePath(pairsDir);
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(async () => {
    const pairs = await readPairs(pairsDir);
    const result = change(pairs);
    await writePairs(pairsDir, pairs);
    return result;
  });
  queues.set(key, next);
  void next.finally(() => {
    if (queues.get(key) === next) queues.delete(key);
  }).catch(() => undefined);
  return next;
}
