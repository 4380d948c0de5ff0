import type { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { openDataset } from '../engine/datasets/open-dataset';
import { scanDataset } from '../engine/datasets/scan-dataset';
import { SPLIT_NAMES, splitDataset, writeSplit, type DatasetSplit } from '../engine/datasets/split-dataset';
import { compileGroupPattern } from '../engine/datasets/study-groups';
import { jsonText } from '../engine/files/atomic-write';
import { guardOutputFile, refuseInsideInputs } from '../engine/files/output-guard';
import { defaultWorkspace } from '../engine/files/workspace';
import { type CliContext, formatTable, percent } from './output';
import { parseFraction, parseInteger } from './parse-options';

export function formatSplit(split: DatasetSplit, file: string): string {
  const rows = SPLIT_NAMES.map((name) => [
    name,
    split.stats[name].slices,
    split.stats[name].groups,
    split.stats[name].lesionSlices,
    percent(split.stats[name].slices / Math.max(1, split.slices.train.length + split.slices.val.length + split.slices.test.length)),
    percent(split.fractions[name]),
  ]);
  const rules = Object.entries(split.grouping.ruleCounts)
    .map(([rule, n]) => `${rule}: ${n}`)
    .join(', ');
  return [
    `split of ${split.dataset.root} (seed ${split.seed}), grouped by ${split.grouping.rule === 'regex' ? `/${split.grouping.pattern}/` : 'study (default rules)'}`,
    `  slices per rule: ${rules}`,
    '',
    formatTable(['split', 'slices', 'groups', 'with lesion', 'share', 'target'], rows),
    '',
    `no overlap: ${split.leakage.groupsInSeveralSplits} groups and ${split.leakage.duplicatesAcrossSplits} identical images are in more than one split`,
    `for comparison, a random slice-level split would put ${percent(split.leakage.randomSplitTestNearTrain)} of test slices beside a training slice of the same study`,
    split.excluded.length > 0 ? `excluded ${split.excluded.length} invalid slice(s); run \`covseg dataset check\` for details` : '',
    `wrote ${file}`,
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n');
}

export function registerSplitCommand(program: Command, io: CliContext): void {
  program
    .command('split')
    .description('split a dataset into train/val/test by study, so no patient is in two splits')
    .argument('<dir>', 'dataset folder')
    .option('--val <fraction>', 'validation share', parseFraction, 0.25)
    .option('--test <fraction>', 'test share', parseFraction, 0.15)
    .option('--seed <n>', 'random seed', parseInteger, 1)
    .option('--group-by <regex>', 'study id = first capture group of this regex on slice names (default: Kaggle/sample naming rules)')
    .option('--out <file>', 'split file to write (default: WORKSPACE/splits/NAME-HASH-seedS.json; WORKSPACE is $COVSEG_WORKSPACE or ~/.covseg)')
    .option('--force', 'overwrite an existing split file with other content')
    .option('--json', 'print the split as JSON')
    .action(async (dir: string, options: { val: number; test: number; seed: number; groupBy?: string; out?: string; force?: boolean; json?: boolean }) => {
      const groupBy = options.groupBy ? compileGroupPattern(options.groupBy) : undefined;
      const rule = { flag: '--out', inputs: [dir], force: Boolean(options.force) };
      // Refuse a bad --out before the scan, which reads every slice.
      if (options.out) await refuseInsideInputs(options.out, rule, 'split.json');
      const dataset = await openDataset(dir);
      const scan = await scanDataset(dataset);
      const split = splitDataset(
        scan.summaries,
        { root: dataset.root, format: dataset.format, contentHash: scan.contentHash },
        { val: options.val, test: options.test, seed: options.seed, ...(groupBy ? { groupBy } : {}) },
      );
      const file = options.out ?? join(defaultWorkspace(), 'splits', `${basename(resolve(dir))}-${scan.contentHash.slice(0, 8)}-seed${options.seed}.json`);
      await guardOutputFile(file, jsonText(split), rule, 'split.json');
      await writeSplit(file, split);
      io.out(options.json ? JSON.stringify(split, null, 2) : formatSplit(split, file));
    });
}
