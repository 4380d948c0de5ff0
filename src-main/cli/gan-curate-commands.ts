import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { DecisionAction } from '../../src-shared/contract/gan-gallery';
import type { GeneratedPair } from '../../src-shared/contract/gan-pairs';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backend/select-backend';
import { CovsegError } from '../engine/errors';
import { checkPairs } from '../engine/gan/check-pairs';
import { applyDecision, AUTO_REJECT_BY, AUTO_REJECT_DEFAULTS, autoRejectPlan, decisionOf, requireKnownIds } from '../engine/gan/curate-pairs';
import { NEAR_COPY_SSIM } from '../engine/gan/nearest-real';
import { pairsFilePath, readPairs } from '../engine/gan/pairs-file';
import { updatePairsLocked } from '../engine/gan/pairs-lock';
import { formatTable, type CliContext } from './output';
import { parseInteger } from './parse-options';

/** Decisions written per atomic rewrite of pairs.jsonl; each is reported only once it is on disk. */
export const CURATE_CHUNK = 25;

const fixed = (value: number | null | undefined, digits: number): string => (value === null || value === undefined ? '-' : value.toFixed(digits));

function parseIds(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseUnit(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new CovsegError('bad-parameter', `${flag} must be a number from 0 to 1, got "${value}"`);
    return n;
  };
}

/** The `gan` command group, shared with the generator commands (whichever registers first creates it). */
function ganGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'gan') ?? program.command('gan').description('GAN synthesis: train generators, generate pairs, check and curate them');
}

export function registerGanCurateCommands(program: Command, io: CliContext): void {
  const gan = ganGroup(program);

  gan
    .command('check')
    .description('quality figures for every generated pair and every GAN: memorisation, segmentability, lesion contrast, histograms, TSTR')
    .argument('<pairsdir>', 'generated-pairs folder (frames/, masks/, pairs.jsonl)')
    .requiredOption('--data <dir>', 'the real dataset the GANs learned from')
    .option('--split <file>', 'split file of --data: nearest neighbours are searched in its train part, TSTR scored on its test part (default: all slices; TSTR on the split `covseg train` makes)')
    .option('--model <rundir>', 'a `covseg train` run on real slices, for the segmentability Dice')
    .option('--tstr', 'also train a U-Net on each GAN\'s pairs alone and score it on the real test split')
    .option('--tstr-epochs <n>', 'epochs of the TSTR U-Net', parseInteger, 20)
    .option('--tstr-size <px>', 'slice size of the TSTR U-Net', parseInteger, 128)
    .option('--tstr-batch <n>', 'batch of the TSTR U-Net', parseInteger, 4)
    .option('--near-copy-ssim <x>', 'SSIM to the nearest training image from which a pair is a near-copy', parseUnit('--near-copy-ssim'), NEAR_COPY_SSIM)
    .option('--seed <n>', 'seed of the TSTR training', parseInteger, 1)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`)
    .option('--json', 'print the quality report as JSON')
    .action(async (pairsDir: string, flags: { data: string; split?: string; model?: string; tstr?: boolean; tstrEpochs: number; tstrSize: number; tstrBatch: number; nearCopySsim: number; seed: number; backend?: BackendChoice; json?: boolean }) => {
      let lastShown = 0;
      const { report, pairs } = await checkPairs(pairsDir, {
        data: flags.data,
        nearCopySsim: flags.nearCopySsim,
        ...(flags.split ? { split: flags.split } : {}),
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.backend ? { backend: flags.backend } : {}),
        ...(flags.tstr ? { tstr: { epochs: flags.tstrEpochs, size: flags.tstrSize, batch: flags.tstrBatch, seed: flags.seed } } : {}),
        onProgress: (stage, done, total) => {
          if (stage !== 'pairs') io.err(`${stage}: training a U-Net on generated pairs only`);
          else if (done === total || Date.now() - lastShown > 2000) {
            lastShown = Date.now();
            io.err(`checked ${done}/${total} pair(s)`);
          }
        },
      });
      if (flags.json) {
        io.out(JSON.stringify(report, null, 2));
        return;
      }
      io.out(
        formatTable(
          ['pair', 'GAN', 'gen', 'nearest train', 'SSIM', 'L1', 'copy', 'seg Dice', 'contrast HU', 'decision'],
          pairs.map((p) => [
            p.id,
            p.generator.ganDir,
            p.generator.generation,
            p.quality?.nearestTrainId ?? '-',
            fixed(p.quality?.ssimToNearest, 3),
            fixed(p.quality?.l1ToNearest, 3),
            p.quality?.nearCopy ? 'COPY' : '',
            fixed(p.quality?.segmentabilityDice, 3),
            fixed(p.quality?.lesionContrast, 0),
            p.decision.state,
          ]),
        ),
      );
      io.out(
        `\nper GAN (real training slices: ${report.trainSlices}; real lesion contrast ${fixed(report.real.meanLesionContrast, 0)} HU; near-copy from SSIM ${report.thresholds.nearCopySsim}):\n` +
          formatTable(
            ['GAN', 'kind', 'gen', 'pairs', 'near-copies', 'mean SSIM', 'mean seg Dice', 'mean contrast HU', 'histogram EMD HU', 'TSTR Dice'],
            report.gans.map((g) => [g.ganDir, g.kind, g.generation, g.pairs, g.nearCopies, fixed(g.meanSsimToNearest, 3), fixed(g.meanSegmentabilityDice, 3), fixed(g.meanLesionContrast, 0), fixed(g.histogramDistanceHu, 1), g.tstr ? fixed(g.tstr.dice, 3) : '-']),
          ),
      );
      io.out(`\nwrote the figures into ${pairsFilePath(resolve(pairsDir))} and ${resolve(pairsDir, 'quality.json')}`);
    });

  gan
    .command('curate')
    .description('accept, reject or undo generated pairs by id, or reject automatically by quality thresholds')
    .argument('<pairsdir>', 'generated-pairs folder (frames/, masks/, pairs.jsonl)')
    .option('--accept <ids>', 'comma-separated pair ids to accept')
    .option('--reject <ids>', 'comma-separated pair ids to reject')
    .option('--undo <ids>', 'comma-separated pair ids to set back to pending')
    .option('--reason <text>', 'why (recorded with --accept/--reject)')
    .option('--by <name>', 'who decides (default: the user name)')
    .option('--auto-reject', 'reject pending pairs past the thresholds (needs `covseg gan check` first); human decisions are kept')
    .option('--max-ssim <x>', 'auto-reject pairs this similar to a training image or more', parseUnit('--max-ssim'), AUTO_REJECT_DEFAULTS.maxSsim)
    .option('--min-dice <x>', 'auto-reject pairs the real-data model segments worse than this', parseUnit('--min-dice'), AUTO_REJECT_DEFAULTS.minDice)
    .action(async (pairsDir: string, flags: { accept?: string; reject?: string; undo?: string; reason?: string; by?: string; autoReject?: boolean; maxSsim: number; minDice: number }) => {
      const dir = resolve(pairsDir);
      const lists: [DecisionAction, string[]][] = [
        ['accept', parseIds(flags.accept)],
        ['reject', parseIds(flags.reject)],
        ['undo', parseIds(flags.undo)],
      ];
      if (!flags.autoReject && lists.every(([, ids]) => ids.length === 0)) {
        throw new CovsegError('bad-parameter', 'nothing to do: give --accept, --reject, --undo or --auto-reject', { fix: 'e.g. covseg gan curate PAIRS --accept p0001,p0002 --reject p0003' });
      }
      const all = lists.flatMap(([, ids]) => ids);
      const twice = all.find((id, i) => all.indexOf(id) !== i);
      if (twice) throw new CovsegError('bad-parameter', `pair ${twice} is given twice (in --accept, --reject or --undo)`, { fix: 'give each id once' });
      // Everything is validated before the first write.
      const pairs = await readPairs(dir);
      requireKnownIds(pairs, all, pairsFilePath(dir));
      const by = flags.by ?? userInfo().username;
      const steps: { action: DecisionAction; id: string; by: string; reason?: string }[] = [];
      for (const [action, ids] of lists) for (const id of ids) steps.push({ action, id, by, ...(flags.reason && action !== 'undo' ? { reason: flags.reason } : {}) });
      if (flags.autoReject) {
        const plan = autoRejectPlan(pairs, { maxSsim: flags.maxSsim, minDice: flags.minDice });
        if (plan.unchecked.length > 0) io.err(`${plan.unchecked.length} pending pair(s) have no quality figures yet and were left alone: run \`covseg gan check\` first`);
        const explicit = new Set(all);
        for (const { id, reason } of plan.reject) if (!explicit.has(id)) steps.push({ action: 'reject', id, by: AUTO_REJECT_BY, reason });
      }
      const counts = { accept: 0, reject: 0, undo: 0 };
      for (let start = 0; start < steps.length; start += CURATE_CHUNK) {
        const chunk = steps.slice(start, start + CURATE_CHUNK);
        const at = new Date().toISOString();
        await updatePairsLocked(dir, 'covseg gan curate', (current: GeneratedPair[]) => {
          requireKnownIds(current, chunk.map((s) => s.id), pairsFilePath(dir));
          for (const step of chunk) applyDecision(current, [step.id], decisionOf(step.action, step.by, at, step.reason));
        });
        // Reported only now: each line printed is a decision already on disk.
        for (const step of chunk) {
          counts[step.action]++;
          io.out(`${step.action === 'accept' ? 'accepted' : step.action === 'reject' ? 'rejected' : 'pending '} ${step.id}${step.reason ? `  (${step.reason})` : ''}`);
        }
      }
      const final = await readPairs(dir);
      const state = (s: string) => final.filter((p) => p.decision.state === s).length;
      io.out(`done: ${counts.accept} accepted, ${counts.reject} rejected, ${counts.undo} set back to pending; folder now ${state('accepted')} accepted, ${state('rejected')} rejected, ${state('pending')} pending`);
    });
}
