import type { AppApi, Result } from '../../../src-shared/contract';
import { createHttpApi } from './http-api';

declare global {
  interface Window {
    /** Set by the Electron preload: the contract over IPC. */
    covseg?: AppApi;
  }
}

let api: AppApi | undefined;

/** The back end: IPC inside Electron, HTTP/WebSocket in a browser. Only stores call it. */
export function useApi(): AppApi {
  // In a browser the access token travels as the server's HttpOnly cookie, never through page code.
  api ??= window.covseg ?? createHttpApi();
  return api;
}

/** For tests: use this API instead. */
export function setApi(value: AppApi): void {
  api = value;
}

/** Unwraps a result, throwing an Error whose message a person can act on. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const { message, details } = result.error;
  throw new Error([message, details?.file && `file: ${details.file}`, details?.fix && `fix: ${details.fix}`, details?.issues?.join('; ')].filter(Boolean).join(' — '));
}
