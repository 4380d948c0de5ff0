import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CovsegError } from './engine/errors';
import { packageRoot } from './engine/package-info';
import { startHttpTransport } from './http/http-transport';
import { createAppServices } from './services/app-services';

/** The built renderer served by `covseg serve` (`npm run build` makes it). */
export const RENDERER_DIR = join(packageRoot(), 'out', 'renderer');

export interface ServeOptions {
  host: string;
  port: number;
  dataRoots: string[];
  workspace?: string;
  token?: string;
  rendererDir?: string;
  /** Trainings at once; more queue (default 1). */
  maxTrainings?: number;
  /** More names requests may reach the server by (`--allow-host`). */
  allowHosts?: string[];
}

/** `covseg serve`: the app's UI and services over HTTP/WebSocket, for machines without a display. */
export async function serve(options: ServeOptions) {
  const rendererDir = options.rendererDir ?? RENDERER_DIR;
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new CovsegError('not-found', 'the app is not built', { file: rendererDir, fix: 'run `npm run build` (npm start does it for you)' });
  }
  const workspace = resolve(options.workspace ?? process.env.COVSEG_WORKSPACE ?? join(homedir(), '.covseg'));
  return startHttpTransport(
    (emit) => createAppServices({ transport: 'http', workspace, allowedRoots: options.dataRoots.map((r) => resolve(r)), emit, ...(options.maxTrainings !== undefined ? { maxTrainings: options.maxTrainings } : {}) }),
    { host: options.host, port: options.port, rendererDir, allowHosts: options.allowHosts ?? [], ...(options.token ? { token: options.token } : {}) },
  );
}
