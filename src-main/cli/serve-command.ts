import { InvalidArgumentError, type Command } from 'commander';
import { serve } from '../server';
import type { CliContext } from './output';
import { parseInteger } from './parse-options';

export function registerServeCommand(program: Command, io: CliContext): void {
  program
    .command('serve')
    .description('serve the app to a browser (for machines without a display); needs `npm run build` first')
    .option('--port <n>', 'port (0 picks a free one)', parseInteger, 8765)
    .option('--host <address>', 'address to bind; anything but loopback exposes the app to the network', '127.0.0.1')
    .option('--data <dir...>', 'folders datasets may be opened from (repeatable)', [])
    .option('--workspace <dir>', 'where runs and the built-in sample go (default ~/.covseg)')
    .option('--max-trainings <n>', 'trainings at once; more wait in a queue (default 1, or COVSEG_MAX_TRAININGS)', (value: string) => {
      const n = parseInteger(value);
      if (n < 1) throw new InvalidArgumentError(`expected at least 1, got "${value}"`);
      return n;
    })
    .action(async (flags: { port: number; host: string; data: string[]; workspace?: string; maxTrainings?: number }) => {
      const server = await serve({ host: flags.host, port: flags.port, dataRoots: flags.data, ...(flags.workspace ? { workspace: flags.workspace } : {}), ...(flags.maxTrainings !== undefined ? { maxTrainings: flags.maxTrainings } : {}) });
      if (!['127.0.0.1', 'localhost', '::1'].includes(flags.host)) io.err(`warning: bound to ${flags.host}; anyone who can reach it and has the token can use the app`);
      io.out(`CovSeg Studio is being served at ${server.url}`);
      io.out('open that URL (it carries the access token); Ctrl-C stops the server');
      await new Promise<void>((resolveStop) => {
        const stop = () => void server.close().then(resolveStop);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
