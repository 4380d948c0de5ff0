import type { Command } from 'commander';
import { CovsegError } from '../engine/errors';
import { exportRunOnnx } from '../engine/onnx/export-run';
import type { CliContext } from './output';

export function registerExportCommand(program: Command, io: CliContext): void {
  program
    .command('export')
    .description("export a run's checkpoint as a standard ONNX model (batch norm folded, dynamic batch)")
    .requiredOption('--run <rundir>', 'run folder')
    .requiredOption('--out <file>', 'ONNX file to write, e.g. model.onnx')
    .option('--format <name>', 'onnx (the only format so far)', 'onnx')
    .option('--checkpoint <which>', 'best or last', 'best')
    .option('--force', 'replace --out if it exists')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { run: string; out: string; format: string; checkpoint: string; force?: boolean; json?: boolean }) => {
      if (flags.format !== 'onnx') throw new CovsegError('bad-parameter', `--format must be onnx, got "${flags.format}"`);
      if (!['best', 'last'].includes(flags.checkpoint)) throw new CovsegError('bad-parameter', `--checkpoint must be best or last, got "${flags.checkpoint}"`);
      const result = await exportRunOnnx(flags.run, flags.out, { checkpoint: flags.checkpoint as 'best' | 'last', force: Boolean(flags.force) });
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      else {
        io.out(
          `wrote ${result.file} (${(result.bytes / 1024).toFixed(0)} KiB, ONNX opset ${result.opset}, ${result.checkpoint} checkpoint)\n` +
            `  input "ct" [batch, 1, height, width]: slices windowed to 8 bits, divided by 255 (trained at ${result.size}x${result.size})\n` +
            `  outputs "logits" and "probabilities" [batch, classes, height, width]; lesion where probability >= ${result.threshold}`,
        );
      }
    });
}
