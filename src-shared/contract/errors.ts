/** Error codes that cross the boundary; the engine's codes plus transport-level ones. */
export const ERROR_CODES = [
  'not-found',
  'corrupt-file',
  'size-mismatch',
  'missing-pair',
  'bad-layout',
  'bad-parameter',
  'bad-split',
  'bad-run',
  'unsupported',
  'cancelled',
  'unsafe-output',
  'busy',
  'disk-full',
  'too-large',
  'timeout',
  'invalid-argument',
  'forbidden',
  'unknown-command',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ContractError {
  code: ErrorCode;
  message: string;
  /** File and fix for engine errors, zod issues for invalid arguments. */
  details?: { file?: string; fix?: string; issues?: string[] };
}

/** Errors cross as values: Electron keeps only `message` of a thrown error. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ContractError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (error: ContractError): Result<never> => ({ ok: false, error });
