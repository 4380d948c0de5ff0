import type { Command } from 'commander';
import { formatOrientation, parseOrientation } from '../../src-shared/orientation';
import { checkDataset, type DatasetReport } from '../engine/datasets/check-dataset';
import { orientationFile, readDatasetOrientation, writeDatasetOrientation } from '../engine/datasets/dataset-orientation';
import { defaultWorkspace } from '../engine/files/workspace';
import { parseHuWindow } from '../engine/datasets/hu-window';
import { CovsegError } from '../engine/errors';
import { type CliContext, formatTable, percent } from './output';

/** Human-readable `dataset check` report: summary first, then every problem with its fix. */
export function formatReport(report: DatasetReport): string {
  const lines = [
    `dataset ${report.root} (${report.format})`,
    `  slices: ${report.slices} listed, ${report.validSlices} valid`,
    `  sizes: ${report.sizes.slice(0, 6).map((s) => `${s.size} x${s.count}`).join(', ')}${report.sizes.length > 6 ? `, ... (${report.sizes.length} sizes)` : ''}`,
    `  width ${report.width.min}-${report.width.max} px, height ${report.height.min}-${report.height.max} px`,
    `  lesion fraction of pixels: min ${percent(report.lesionFraction.min)}, median ${percent(report.lesionFraction.median)}, mean ${percent(report.lesionFraction.mean)}, max ${percent(report.lesionFraction.max)}`,
    `  empty masks: ${report.emptyMasks}`,
  ];
  if (report.classes) {
    lines.push(
      `  classes (${report.classes.labelledSlices} labelled slices): ground-glass in ${report.classes.groundGlass.slices} slices (${report.classes.groundGlass.pixels} px), consolidation in ${report.classes.consolidation.slices} slices (${report.classes.consolidation.pixels} px)`,
    );
  } else lines.push('  classes: no class labels (binary masks only)');
  if (report.series) {
    lines.push(`  DICOM series: ${report.series.length} (${report.series.filter((s) => !s.leftOut).length} used)`);
    for (const s of report.series) {
      const spacing = s.spacing ? `, ${s.spacing.map((v) => v.toFixed(2)).join(' x ')} mm` : '';
      const status = s.leftOut ? ` — left out: ${s.leftOut}` : '';
      lines.push(`    ${s.name}: ${s.modality || '?'} ${s.slices} slices ${s.size}${spacing}, ${s.gaps} gap(s) (${s.missing} slice(s) missing), ${s.duplicates} duplicate position(s)${status}`);
    }
  }
  if (report.orientation) {
    const o = report.orientation;
    const votes = o.votes.map((v) => `${v.orientation} x${v.slices}`).join(', ') || 'none';
    lines.push(`  orientation: shown ${o.shown}; the anatomy says ${o.anatomy ?? 'nothing clear'} (votes of ${o.sampled} sampled slices: ${votes}; ${o.abstained} undecided)`);
  }
  lines.push(`  duplicates: ${report.duplicates}`, `  problems: ${report.errors} error(s), ${report.warnings} warning(s)`);
  if (report.problems.length > 0) {
    lines.push('');
    lines.push(
      formatTable(
        ['severity', 'problem', 'file', 'what', 'fix'],
        report.problems.map((p) => [p.severity, p.code, p.file, p.message, p.fix]),
      ),
    );
  }
  return lines.join('\n');
}

export function registerDatasetCommand(program: Command, io: CliContext): void {
  const dataset = program.command('dataset').description('inspect datasets');
  dataset
    .command('check')
    .description('validate a dataset folder: counts, sizes, lesion statistics, classes and problems (exit 1 on errors)')
    .argument('<dir>', 'folder with frames/ + masks/ (+ labels/), images/ + labels/ NIfTI volumes, or DICOM series under images/ + labels/')
    .option('--window <W/L>', 'HU window for NIfTI volumes, e.g. W1500/L-600 (the default lung window)')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, options: { window?: string; json?: boolean }) => {
      let window;
      try {
        window = options.window ? parseHuWindow(options.window) : undefined;
      } catch (error) {
        throw new CovsegError('bad-parameter', (error as Error).message);
      }
      // PNG slices are checked as the app shows them: the orientation saved for the dataset.
      const orientation = await readDatasetOrientation(defaultWorkspace(), dir);
      const report = await checkDataset(dir, {
        ...(window ? { window } : {}),
        orientation,
        onProgress: (done, total) => {
          if (io.interactive && (done % 50 === 0 || done === total)) process.stderr.write(`\rchecking ${done}/${total}`);
        },
      });
      if (io.interactive) process.stderr.write('\r\x1b[K');
      io.out(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (report.errors > 0) io.exitCode = 1;
    });
  dataset
    .command('orient')
    .description('show or set how the app shows a dataset (rotation, flips); stored in WORKSPACE/settings, never in the dataset')
    .argument('<dir>', 'dataset folder')
    .option('--orientation <o>', 'none, rot90, rot180, rot270, optionally +flipH and/or +flipV (e.g. rot90+flipH)')
    .action(async (dir: string, options: { orientation?: string }) => {
      const workspace = defaultWorkspace();
      if (options.orientation !== undefined) {
        const orientation = parseOrientation(options.orientation);
        if (!orientation) throw new CovsegError('bad-parameter', `--orientation ${options.orientation} is not an orientation`, { fix: 'use none, rot90, rot180 or rot270, optionally followed by +flipH and/or +flipV' });
        await writeDatasetOrientation(workspace, dir, orientation);
      }
      io.out(`${dir}: ${formatOrientation(await readDatasetOrientation(workspace, dir))} (${orientationFile(workspace)})`);
    });
}
