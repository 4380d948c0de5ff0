/**
 * A failure the user can act on: what went wrong, which file, and how to fix it.
 * Every engine error a person may see is one of these, so the CLI, the app and the server can
 * show the same three parts.
 */
export type CovsegErrorCode =
  | 'not-found'
  | 'corrupt-file'
  | 'size-mismatch'
  | 'missing-pair'
  | 'bad-layout'
  | 'bad-parameter'
  | 'bad-split'
  | 'bad-run'
  | 'unsupported'
  | 'cancelled'
  | 'unsafe-output'
  | 'busy'
  | 'disk-full'
  | 'too-large'
  | 'timeout'
  | 'internal';

export class CovsegError extends Error {
  readonly code: CovsegErrorCode;
  readonly file: string | undefined;
  readonly fix: string | undefined;

  constructor(code: CovsegErrorCode, message: string, options: { file?: string; fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CovsegError';
    this.code = code;
    this.file = options.file;
    this.fix = options.fix;
  }

  /** One line for a terminal: message, file, fix. */
  describe(): string {
    const parts = [this.message];
    if (this.file) parts.push(`file: ${this.file}`);
    if (this.fix) parts.push(`fix: ${this.fix}`);
    return parts.join(' — ');
  }
}

/** Throws a `bad-parameter` error unless `condition` holds. */
export function requireParameter(condition: boolean, message: string, fix?: string): asserts condition {
  if (!condition) throw new CovsegError('bad-parameter', message, fix === undefined ? {} : { fix });
}
