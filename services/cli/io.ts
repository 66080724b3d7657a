// What a command writes to and reads from, so that tests run commands in-process.
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

export const processIo = (): CliIo => ({
  out: writer(process.stdout),
  err: writer(process.stderr),
  env: process.env,
  cwd: process.cwd(),
});

/**
 * Lines to a stream that may close early (`cairn … | head`): once the reader is gone (EPIPE)
 * the rest is dropped quietly, and the command ends with its own exit code.
 */
function writer(stream: NodeJS.WriteStream): (line: string) => void {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    closed = true;
  });
  return (line) => {
    if (!closed) stream.write(`${line}\n`);
  };
}

/** A failure the user can fix: printed as `cairn: <what>. <what to do>`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly what: string,
    readonly fix: string,
    readonly exitCode = 1,
  ) {
    super(`cairn: ${what}. ${fix}`);
  }
}

/** A command's result: the process exit code. */
export type ExitCode = number;

/** What kind of failure a coded error is: the admin HTTP API answers 404, 400 or 409. */
export type FailureKind = 'not_found' | 'invalid' | 'conflict';

/**
 * A failure with a stable code (docs/errors.md), shared by the CLI (printed as a CliError) and
 * the admin HTTP API (`{ error: { code, message, hint } }`).
 */
export class CodedError extends CliError {
  constructor(
    readonly code: string,
    what: string,
    fix: string,
    readonly kind: FailureKind = 'invalid',
  ) {
    super(what, fix);
  }
}
