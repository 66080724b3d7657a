// What a command writes to and reads from, so that tests run commands in-process.
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

export const processIo = (): CliIo => ({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
});

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
