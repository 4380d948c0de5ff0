import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { SliceSummary } from '../../../../src-main/engine/datasets/scan-dataset';
import { readSplit, SPLIT_NAMES, splitDataset, writeSplit } from '../../../../src-main/engine/datasets/split-dataset';
import { compileGroupPattern, groupSlices } from '../../../../src-main/engine/datasets/study-groups';
import { createRandom } from '../../../../src-main/engine/random/seeded-random';
import { tempDir } from '../../../fixtures/temp-dir';

const DATASET = { root: '/data', format: 'png-pairs' as const, contentHash: 'h' };

function summary(id: string, lesion = true, imageHash = `hash-${id}`): SliceSummary {
  return { id, file: `/data/frames/${id}.png`, valid: true, width: 8, height: 8, imageHash, lesionPixels: lesion ? 5 : 0, groundGlassPixels: 0, consolidationPixels: 0, hasLabels: false };
}

/** Random studies of 1..12 slices named like the Kaggle set. */
function kaggleLike(seed: number): SliceSummary[] {
  const random = createRandom(seed);
  const out: SliceSummary[] = [];
  for (let c = 1; c <= 30; c++) {
    const n = 1 + random.int(12);
    const healthy = random.chance(0.2);
    for (let s = 0; s < n; s++) out.push(summary(`Jun_coronacases_case${c}_${100 + s}`, !healthy && random.chance(0.85)));
  }
  for (let b = 0; b < 15; b++) out.push(summary(`bjorke_${b}`));
  return out;
}

describe('study grouping', () => {
  it('recognises Kaggle and sample names and leaves others as their own group', () => {
    const ids = ['Jun_coronacases_case7_75', 'Jun_coronacases_case7_76', 'Jun_radiopaedia_10_85902_3_case12_107', 'Morozov_study_0017_20', 'Morozov_study_0017_21', 'bjorke_3', 'bjorke_4', 'synth_p002_s01', 'vol:z012'];
    const { groupOf, ruleCounts } = groupSlices(ids);
    expect(groupOf.get('Jun_coronacases_case7_76')).toBe('Jun_coronacases_case7');
    expect(groupOf.get('Jun_radiopaedia_10_85902_3_case12_107')).toBe('Jun_radiopaedia_10_85902_3_case12');
    expect(groupOf.get('Morozov_study_0017_21')).toBe('Morozov_study_0017');
    expect(groupOf.get('bjorke_3')).toBe('bjorke_3');
    expect(groupOf.get('synth_p002_s01')).toBe('synth_p002');
    expect(groupOf.get('vol:z012')).toBe('vol');
    expect(ruleCounts['own group']).toBe(2);
  });

  it('takes a user regex (first capture group) and rejects an invalid one', () => {
    const { groupOf } = groupSlices(['bjorke_3', 'bjorke_4', 'other'], compileGroupPattern('^(bjorke)_'));
    expect(groupOf.get('bjorke_4')).toBe('bjorke');
    expect(groupOf.get('other')).toBe('other');
    expect(() => compileGroupPattern('(')).toThrow(/not a valid regular expression/);
  });
});

describe('grouped split', () => {
  it.each([1, 2, 3, 4, 5])('keeps every study in one split, near the target fractions (data seed %i)', (dataSeed) => {
    const summaries = kaggleLike(dataSeed);
    const split = splitDataset(summaries, DATASET, { val: 0.25, test: 0.15, seed: 7 });
    const splitOfGroup = new Map<string, string>();
    for (const name of SPLIT_NAMES) {
      for (const id of split.slices[name]) {
        const group = id.replace(/_\d+$/, '');
        const key = id.startsWith('bjorke') ? id : group;
        expect(splitOfGroup.get(key) ?? name).toBe(name);
        splitOfGroup.set(key, name);
      }
    }
    expect(split.leakage.groupsInSeveralSplits).toBe(0);
    const total = summaries.length;
    const largestGroup = 12;
    for (const name of SPLIT_NAMES) {
      expect(Math.abs(split.stats[name].slices - split.fractions[name] * total)).toBeLessThanOrEqual(largestGroup);
    }
    expect(split.slices.train.length + split.slices.val.length + split.slices.test.length).toBe(total);
    // A random slice split would leak most test slices; ours leaks none.
    expect(split.leakage.randomSplitTestNearTrain).toBeGreaterThan(0.5);
  });

  it('gives lesion-free studies to every split when there are enough of them', () => {
    const summaries: SliceSummary[] = [];
    for (let p = 0; p < 40; p++) for (let s = 0; s < 3; s++) summaries.push(summary(`synth_p${String(p).padStart(3, '0')}_s0${s}`, p % 4 !== 0));
    const split = splitDataset(summaries, DATASET, { val: 0.25, test: 0.25, seed: 3 });
    for (const name of SPLIT_NAMES) {
      const clean = split.stats[name].slices - split.stats[name].lesionSlices;
      expect(clean / split.stats[name].slices).toBeGreaterThan(0.1);
      expect(clean / split.stats[name].slices).toBeLessThan(0.4);
    }
  });

  it('is the same for the same seed and differs for another', () => {
    const summaries = kaggleLike(9);
    const a = splitDataset(summaries, DATASET, { val: 0.25, test: 0.15, seed: 1 });
    const b = splitDataset(summaries, DATASET, { val: 0.25, test: 0.15, seed: 1 });
    const c = splitDataset(summaries, DATASET, { val: 0.25, test: 0.15, seed: 2 });
    expect(b).toEqual(a);
    expect(c.slices).not.toEqual(a.slices);
  });

  it('puts identical images into one split even under different study names', () => {
    const summaries = [summary('bjorke_1', true, 'same'), summary('bjorke_2', true, 'same'), ...Array.from({ length: 20 }, (_, i) => summary(`bjorke_${i + 3}`))];
    for (let seed = 0; seed < 10; seed++) {
      const split = splitDataset(summaries, DATASET, { val: 0.3, test: 0.3, seed });
      expect(split.leakage.duplicatesAcrossSplits).toBe(0);
      const where = SPLIT_NAMES.filter((n) => split.slices[n].includes('bjorke_1') || split.slices[n].includes('bjorke_2'));
      expect(where).toHaveLength(1);
    }
  });

  it('rejects fractions that leave nothing to train on', () => {
    expect(() => splitDataset(kaggleLike(1), DATASET, { val: 0.6, test: 0.5, seed: 1 })).toThrow(/leave slices for training/);
  });

  it('round-trips through a split file and rejects damaged ones', async () => {
    const dir = await tempDir();
    const split = splitDataset(kaggleLike(2), DATASET, { val: 0.2, test: 0.2, seed: 4 });
    await writeSplit(`${dir}/split.json`, split);
    expect(await readSplit(`${dir}/split.json`)).toEqual(split);
    await writeFile(`${dir}/bad.json`, '{"version": 1, "slices": {"train": ["a"], "val": ["a"], "test": []}}');
    await expect(readSplit(`${dir}/bad.json`)).rejects.toThrow(/more than one split/);
    await writeFile(`${dir}/junk.json`, 'not json');
    await expect(readSplit(`${dir}/junk.json`)).rejects.toThrow(/not valid JSON/);
    await expect(readSplit(`${dir}/none.json`)).rejects.toThrow(/does not exist/);
  });
});
