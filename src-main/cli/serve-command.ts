import { InvalidArgumentError, type Command } from 'commander';
import { isLoopback, isWildcard } from '../http/request-checks';
import { serve } from '../server';
import type { CliContext } from './output';
import { parseInteger } from './parse-options';

/** `--allow-host`: a bare host name or address as the Host header carries it, without port or path. */
function addHostName(value: string, names: string[]): string[] {
  const name = value.trim().replace(/^\[(.*)\]$/, '$1');
  const ipv6 = name.includes(':') && /^[0-9a-fA-F:.]+$/.test(name);
  if (!ipv6 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name)) {
    throw new InvalidArgumentError(`expected a host name or address without port or path (e.g. gpu-box or 192.168.1.20), got "${value}"`);
  }
  return [...names, name];
}

export function registerServeCommand(program: Command, io: CliContext): void {
  program
    .command('serve')
    .description('serve the app to a browser (for machines without a display); needs `npm run build` first')
    .option('--port <n>', 'port (0 picks a free one)', parseInteger, 8765)
    .option('--host <address>', 'address to bind; anything but loopback exposes the app to the network', '127.0.0.1')
    .option('--allow-host <name>', 'another name the browser may reach the server by, e.g. the LAN name or address (repeatable)', addHostName, [] as string[])
    .option('--data <dir...>', 'folders datasets may be opened from (repeatable)', [])
    .option('--workspace <dir>', 'where runs and the built-in sample go (default ~/.covseg)')
    .option('--max-trainings <n>', 'trainings at once; more wait in a queue (default 1, or COVSEG_MAX_TRAININGS)', (value: string) => {
      const n = parseInteger(value);
      if (n < 1) throw new InvalidArgumentError(`expected at least 1, got "${value}"`);
      return n;
    })
    .action(async (flags: { port: number; host: string; allowHost: string[]; data: string[]; workspace?: string; maxTrainings?: number }) => {
      const server = await serve({ host: flags.host, port: flags.port, dataRoots: flags.data, allowHosts: flags.allowHost, ...(flags.workspace ? { workspace: flags.workspace } : {}), ...(flags.maxTrainings !== undefined ? { maxTrainings: flags.maxTrainings } : {}) });
      if (!isLoopback(flags.host)) {
        io.err(`warning: bound to ${flags.host}; anyone who can reach it and has the token can use the app (plain HTTP: the token crosses the network unencrypted; an SSH tunnel avoids both)`);
        if (isWildcard(flags.host) && flags.allowHost.length === 0) io.err('requests must still name this machine as localhost or 127.0.0.1: add --allow-host NAME for each name or address the browser uses');
      }
      io.out(`CovSeg Studio is being served at ${server.url}`);
      io.out('open that URL (it carries the access token); Ctrl-C stops the server');
      await new Promise<void>((resolveStop) => {
        const stop = () => void server.close().then(resolveStop);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
