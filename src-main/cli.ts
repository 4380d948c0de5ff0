import { Command, CommanderError } from 'commander';
import { registerAnnotationsCommand } from './cli/annotations-command';
import { registerAugmentCommands } from './cli/augment-commands';
import { registerDatasetCommand } from './cli/dataset-command';
import { registerDemoCommand } from './cli/demo-command';
import { registerEvalCommands } from './cli/eval-command';
import { registerExportCommand } from './cli/export-command';
import { registerExperimentCommand } from './cli/experiment-command';
import { registerGanCurateCommands } from './cli/gan-curate-commands';
import { registerGanCommand } from './cli/gan-command';
import { type CliIo, processIo, reportError, type CliContext } from './cli/output';
import { registerMeasureCommand } from './cli/measure-command';
import { registerSampleCommand } from './cli/sample-command';
import { registerServeCommand } from './cli/serve-command';
import { registerSplitCommand } from './cli/split-command';
import { registerTrainCommand } from './cli/train-command';
import { covsegVersion } from './engine/package-info';

/** Builds the `covseg` program; every command prints to `io` and sets `io.exitCode` on failure. */
export function buildProgram(io: CliContext): Command {
  const program = new Command('covseg')
    .description('CovSeg Studio: COVID-19 CT lesion segmentation — datasets, augmentation, training, comparison')
    .version(covsegVersion())
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .exitOverride();
  registerSampleCommand(program, io);
  registerDatasetCommand(program, io);
  registerSplitCommand(program, io);
  registerAugmentCommands(program, io);
  registerTrainCommand(program, io);
  registerEvalCommands(program, io);
  registerExportCommand(program, io);
  registerExperimentCommand(program, io);
  registerGanCommand(program, io);
  registerMeasureCommand(program, io);
  registerServeCommand(program, io);
  registerDemoCommand(program, io);
  registerGanCurateCommands(program, io);
  registerAnnotationsCommand(program, io);
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  for (const command of program.commands.flatMap((c) => c.commands)) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs `covseg` with `argv` (without node and script); resolves to the exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const context: CliContext = { ...io, exitCode: 0 };
  const program = buildProgram(context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    return reportError(error, io);
  }
}
