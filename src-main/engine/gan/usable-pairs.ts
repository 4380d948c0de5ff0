import { existsSync } from 'node:fs';
import { pairsFilePath, readPairs } from './pairs-file';

/**
 * The generated pairs training may use: every pair of the folder except those rejected in its
 * pairs.jsonl (by a person or `covseg gan curate --auto-reject`); pending and accepted pairs train.
 * A folder without pairs.jsonl (pairs made elsewhere) is used whole.
 */
export async function usablePairIds(ganDir: string, ids: readonly string[]): Promise<string[]> {
  if (!existsSync(pairsFilePath(ganDir))) return [...ids];
  const rejected = new Set((await readPairs(ganDir)).filter((p) => p.decision.state === 'rejected').map((p) => p.id));
  return ids.filter((id) => !rejected.has(id));
}
