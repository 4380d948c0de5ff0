import { CovsegError } from '../errors';

/**
 * Slices of one study (patient scan) must stay in one split: neighbouring slices are nearly identical,
 * so a slice-level split tests on near-copies of training data.
 */
export interface GroupRule {
  name: string;
  pattern: RegExp;
}

/** How the public Kaggle set and this project name slices; the first capture group is the study. */
export const DEFAULT_GROUP_RULES: readonly GroupRule[] = [
  { name: 'coronacases', pattern: /^(Jun_coronacases_case\d+)_\d+$/ },
  { name: 'radiopaedia', pattern: /^(Jun_radiopaedia_.+_case\d+)_\d+$/ },
  { name: 'mosmed', pattern: /^(Morozov_study_\d+)_\d+$/ },
  { name: 'synthetic', pattern: /^(synth_p\d+)_s\d+$/ },
  { name: 'nifti volume', pattern: /^(.+):z\d+$/ },
];

export interface Grouping {
  /** Slice id -> group id. */
  groupOf: Map<string, string>;
  /** How many slices each rule (or `own group`) placed. */
  ruleCounts: Record<string, number>;
  rule: 'default' | 'regex';
  pattern?: string;
}

/** Compiles a user's `--group-by` expression, failing with the fix when it is not a valid regex. */
export function compileGroupPattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (error) {
    throw new CovsegError('bad-parameter', `--group-by is not a valid regular expression: ${(error as Error).message}`, {
      fix: 'give a JavaScript regex whose first capture group is the study id, e.g. "^(.+)_\\d+$"',
    });
  }
}

/**
 * Groups slice ids by study: with `pattern`, the first capture group (or the whole match) of each id;
 * otherwise the study the source names (`studyOf`, from DICOM StudyInstanceUID), else the default
 * rules. Ids that match nothing (e.g. `bjorke_12`) are each their own group.
 */
export function groupSlices(ids: readonly string[], pattern?: RegExp, studyOf?: ReadonlyMap<string, string>): Grouping {
  const groupOf = new Map<string, string>();
  const ruleCounts: Record<string, number> = {};
  const count = (rule: string) => (ruleCounts[rule] = (ruleCounts[rule] ?? 0) + 1);
  for (const id of ids) {
    if (pattern) {
      const match = pattern.exec(id);
      if (match) {
        groupOf.set(id, match[1] ?? match[0]);
        count('regex');
      } else {
        groupOf.set(id, id);
        count('own group');
      }
      continue;
    }
    const study = studyOf?.get(id);
    if (study !== undefined) {
      groupOf.set(id, study);
      count('dicom study');
      continue;
    }
    const rule = DEFAULT_GROUP_RULES.find((r) => r.pattern.test(id));
    if (rule) {
      groupOf.set(id, rule.pattern.exec(id)![1]!);
      count(rule.name);
    } else {
      groupOf.set(id, id);
      count('own group');
    }
  }
  return pattern ? { groupOf, ruleCounts, rule: 'regex', pattern: pattern.source } : { groupOf, ruleCounts, rule: 'default' };
}
