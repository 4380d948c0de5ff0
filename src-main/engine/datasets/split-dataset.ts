import { readFile } from 'node:fs/promises';
import { CovsegError, requireParameter } from '../errors';
import { writeJsonAtomic } from '../files/atomic-write';
import { createRandom, type Random } from '../random/seeded-random';
import type { SliceSummary } from './scan-dataset';
import { groupSlices, type Grouping } from './study-groups';
import type { DatasetFormat } from './types';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface SplitStats {
  slices: number;
  groups: number;
  lesionSlices: number;
}

/** A split file: which slices train, validate and test a model, and the evidence that no study leaks. */
export interface DatasetSplit {
  version: 1;
  dataset: { root: string; format: DatasetFormat; contentHash: string; slices: number };
  seed: number;
  fractions: Record<SplitName, number>;
  grouping: { rule: 'default' | 'regex'; pattern?: string; ruleCounts: Record<string, number> };
  slices: Record<SplitName, string[]>;
  groups: Record<SplitName, string[]>;
  /** Invalid slices left out of every split. */
  excluded: string[];
  stats: Record<SplitName, SplitStats>;
  leakage: {
    /** Groups found in more than one split: always 0 for a split made here. */
    groupsInSeveralSplits: number;
    /** Identical images in different splits: 0, since duplicates are grouped together. */
    duplicatesAcrossSplits: number;
    /** For comparison: share of test slices a random slice-level split would place beside a training slice of the same study. */
    randomSplitTestNearTrain: number;
  };
}

export interface SplitOptions {
  val: number;
  test: number;
  seed: number;
  groupBy?: RegExp;
}

interface Group {
  id: string;
  members: SliceSummary[];
  lesionSlices: number;
}

/** Union-find over group ids, so identical images end up in one group whatever their names. */
function mergeDuplicates(summaries: SliceSummary[], grouping: Grouping): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (g: string): string => {
    let root = g;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(g, root);
    return root;
  };
  const byHash = new Map<string, string>();
  for (const s of summaries) {
    const group = grouping.groupOf.get(s.id)!;
    if (!parent.has(group)) parent.set(group, group);
    const other = byHash.get(s.imageHash);
    if (other === undefined) byHash.set(s.imageHash, group);
    else {
      const a = find(group);
      const b = find(other);
      if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const merged = new Map<string, string>();
  for (const s of summaries) merged.set(s.id, find(grouping.groupOf.get(s.id)!));
  return merged;
}

/**
 * Greedy grouped assignment: groups go, largest first (ties in seeded random order), to the split
 * furthest below its target. Groups mostly with lesion and groups mostly without are placed as two
 * strata, so each split gets its share of lesion-free slices where the groups allow it.
 */
function assignGroups(groups: Group[], fractions: Record<SplitName, number>, random: Random): Map<string, SplitName> {
  const assignment = new Map<string, SplitName>();
  const counts: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  const strata = [groups.filter((g) => g.lesionSlices * 2 >= g.members.length), groups.filter((g) => g.lesionSlices * 2 < g.members.length)];
  let placed = 0;
  for (const stratum of strata) {
    placed += stratum.reduce((n, g) => n + g.members.length, 0);
    const ordered = random.shuffle(stratum).sort((a, b) => b.members.length - a.members.length);
    for (const group of ordered) {
      let best: SplitName = 'train';
      let bestDeficit = -Infinity;
      // Smaller splits first on ties, so they are not starved when groups are coarse.
      for (const name of ['test', 'val', 'train'] as const) {
        const deficit = fractions[name] * placed - counts[name];
        if (fractions[name] > 0 && deficit > bestDeficit) {
          best = name;
          bestDeficit = deficit;
        }
      }
      assignment.set(group.id, best);
      counts[best] += group.members.length;
    }
  }
  return assignment;
}

function randomSplitLeakage(valid: SliceSummary[], groupOf: Map<string, string>, fractions: Record<SplitName, number>, random: Random): number {
  const shuffled = random.shuffle(valid);
  const testCount = Math.round(fractions.test * shuffled.length);
  const valCount = Math.round(fractions.val * shuffled.length);
  const test = shuffled.slice(0, testCount);
  const trainGroups = new Set(shuffled.slice(testCount + valCount).map((s) => groupOf.get(s.id)));
  if (test.length === 0) return 0;
  return test.filter((s) => trainGroups.has(groupOf.get(s.id))).length / test.length;
}

/** Splits the valid slices of a scanned dataset by study group. Same inputs and seed, same split. */
export function splitDataset(
  summaries: SliceSummary[],
  dataset: { root: string; format: DatasetFormat; contentHash: string },
  options: SplitOptions,
): DatasetSplit {
  const { val, test, seed } = options;
  requireParameter(Number.isFinite(val) && val >= 0 && val < 1, `--val must be a fraction in [0, 1), got ${val}`, 'for example --val 0.25');
  requireParameter(Number.isFinite(test) && test >= 0 && test < 1, `--test must be a fraction in [0, 1), got ${test}`, 'for example --test 0.15');
  requireParameter(val + test < 1, `--val + --test must leave slices for training, got ${val + test}`, 'lower --val or --test');
  requireParameter(Number.isInteger(seed), `--seed must be an integer, got ${seed}`);
  const fractions: Record<SplitName, number> = { train: 1 - val - test, val, test };
  const valid = summaries.filter((s) => s.valid);
  const grouping = groupSlices(
    valid.map((s) => s.id),
    options.groupBy,
    new Map(valid.filter((s) => s.study !== undefined).map((s) => [s.id, s.study!])),
  );
  const groupOf = mergeDuplicates(valid, grouping);
  const groupsById = new Map<string, Group>();
  for (const s of valid) {
    const id = groupOf.get(s.id)!;
    const group = groupsById.get(id) ?? { id, members: [], lesionSlices: 0 };
    group.members.push(s);
    if (s.lesionPixels > 0) group.lesionSlices++;
    groupsById.set(id, group);
  }
  const groups = [...groupsById.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const random = createRandom(seed);
  const assignment = assignGroups(groups, fractions, random.fork('assign'));

  const slices: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  const groupLists: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  const stats: Record<SplitName, SplitStats> = {
    train: { slices: 0, groups: 0, lesionSlices: 0 },
    val: { slices: 0, groups: 0, lesionSlices: 0 },
    test: { slices: 0, groups: 0, lesionSlices: 0 },
  };
  for (const group of groups) {
    const name = assignment.get(group.id)!;
    groupLists[name].push(group.id);
    stats[name].groups++;
    for (const member of group.members) {
      slices[name].push(member.id);
      stats[name].slices++;
      if (member.lesionPixels > 0) stats[name].lesionSlices++;
    }
  }
  for (const name of SPLIT_NAMES) slices[name].sort();

  const split: DatasetSplit = {
    version: 1,
    dataset: { ...dataset, slices: summaries.length },
    seed,
    fractions,
    grouping: { rule: grouping.rule, ...(grouping.pattern ? { pattern: grouping.pattern } : {}), ruleCounts: grouping.ruleCounts },
    slices,
    groups: groupLists,
    excluded: summaries.filter((s) => !s.valid).map((s) => s.id),
    stats,
    leakage: { groupsInSeveralSplits: 0, duplicatesAcrossSplits: 0, randomSplitTestNearTrain: 0 },
  };
  split.leakage = measureLeakage(split, valid, groupOf);
  split.leakage.randomSplitTestNearTrain = randomSplitLeakage(valid, groupOf, fractions, random.fork('random-split'));
  return split;
}

/** Counts groups and identical images found in more than one split: the proof of no overlap. */
export function measureLeakage(split: DatasetSplit, valid: SliceSummary[], groupOf: Map<string, string>): DatasetSplit['leakage'] {
  const splitOf = new Map<string, SplitName>();
  for (const name of SPLIT_NAMES) for (const id of split.slices[name]) splitOf.set(id, name);
  const groupSplits = new Map<string, Set<SplitName>>();
  const hashSplits = new Map<string, Set<SplitName>>();
  for (const s of valid) {
    const name = splitOf.get(s.id);
    if (!name) continue;
    const g = groupOf.get(s.id)!;
    (groupSplits.get(g) ?? groupSplits.set(g, new Set()).get(g)!).add(name);
    (hashSplits.get(s.imageHash) ?? hashSplits.set(s.imageHash, new Set()).get(s.imageHash)!).add(name);
  }
  return {
    groupsInSeveralSplits: [...groupSplits.values()].filter((set) => set.size > 1).length,
    duplicatesAcrossSplits: [...hashSplits.values()].filter((set) => set.size > 1).length,
    randomSplitTestNearTrain: split.leakage?.randomSplitTestNearTrain ?? 0,
  };
}

export async function writeSplit(file: string, split: DatasetSplit): Promise<void> {
  await writeJsonAtomic(file, split);
}

/** Reads and checks a split file; a damaged or foreign file fails with what to do. */
export async function readSplit(file: string): Promise<DatasetSplit> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CovsegError(missing ? 'not-found' : 'bad-split', missing ? 'split file does not exist' : 'split file is not valid JSON', {
      file,
      fix: 'create it with `covseg split DIR --out FILE`',
    });
  }
  const split = parsed as Partial<DatasetSplit>;
  const ok =
    split &&
    split.version === 1 &&
    split.slices &&
    SPLIT_NAMES.every((name) => Array.isArray(split.slices![name]) && split.slices![name].every((id) => typeof id === 'string'));
  if (!ok) {
    throw new CovsegError('bad-split', 'not a CovSeg split file (version 1 with train/val/test slice lists)', {
      file,
      fix: 'create it with `covseg split DIR --out FILE`',
    });
  }
  const seen = new Set<string>();
  for (const name of SPLIT_NAMES) {
    for (const id of split.slices![name]) {
      if (seen.has(id)) throw new CovsegError('bad-split', `slice ${id} appears in more than one split`, { file, fix: 'recreate the split with `covseg split`' });
      seen.add(id);
    }
  }
  return split as DatasetSplit;
}
