import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ANNOTATION_STATUSES, type AnnotationStatus } from '../../src-shared/contract/annotations';
import { listAnnotationStores } from '../engine/annotations/annotation-store';
import { exportAnnotations } from '../engine/annotations/export-annotations';
import { CovsegError } from '../engine/errors';
import type { CliContext } from './output';

function parseStatuses(value: string): AnnotationStatus[] {
  const statuses = value.split(',').map((s) => s.trim());
  const wrong = statuses.filter((s) => !(ANNOTATION_STATUSES as readonly string[]).includes(s));
  if (wrong.length > 0) throw new CovsegError('bad-parameter', `unknown status ${wrong.join(', ')}`, { fix: `use a comma-separated list of ${ANNOTATION_STATUSES.join(', ')}` });
  return statuses as AnnotationStatus[];
}

/** `covseg annotations export WORKSPACE --out DIR`: edited labels of the Annotate view as a trainable dataset. */
export function registerAnnotationsCommand(program: Command, io: CliContext): void {
  const annotations = program.command('annotations').description('labels painted and corrected in the Annotate view');
  annotations
    .command('export')
    .description('write corrected slices as frames/, masks/, labels/ (and NIfTI label volumes on the source grid) for `covseg train`')
    .argument('<workspace>', 'the workspace whose annotations/ folder holds the stores ($COVSEG_WORKSPACE or ~/.covseg for the app)')
    .requiredOption('--out <dir>', 'new or empty folder to write')
    .option('--dataset <dir>', 'the source dataset, when the workspace has annotations of several')
    .option('--status <list>', 'which slices: comma-separated statuses', 'corrected,reviewed')
    .option('--force', 'write into a non-empty --out')
    .option('--json', 'print the result as JSON')
    .action(async (workspace: string, options: { out: string; dataset?: string; status: string; force?: boolean; json?: boolean }) => {
      const statuses = parseStatuses(options.status);
      let stores = await listAnnotationStores(workspace);
      if (options.dataset) stores = stores.filter((s) => s.root === resolve(options.dataset!));
      if (stores.length === 0) {
        throw new CovsegError('not-found', `no annotations${options.dataset ? ` of ${resolve(options.dataset)}` : ''} in ${resolve(workspace)}`, {
          file: resolve(workspace, 'annotations'),
          fix: 'paint or correct slices in the Annotate view first, with this workspace ($COVSEG_WORKSPACE)',
        });
      }
      if (stores.length > 1) {
        throw new CovsegError('bad-parameter', `the workspace has annotations of ${stores.length} datasets`, {
          fix: `choose one with --dataset: ${stores.map((s) => s.root).join(', ')}`,
        });
      }
      const result = await exportAnnotations(stores[0]!, options.out, { statuses, force: Boolean(options.force) });
      const { manifest: _manifest, ...summary } = result;
      io.out(
        options.json
          ? JSON.stringify(summary, null, 2)
          : [
              `exported ${result.slices} slice(s) of ${stores[0]!.root} (${statuses.join(', ')}) to ${resolve(options.out)}`,
              ...result.volumes.map((v) => `  label volume ${v} (source grid and affine)`),
              `dataset version ${result.version}; train with: covseg train ${options.out} --classes ggo-consolidation`,
            ].join('\n'),
      );
    });
}
