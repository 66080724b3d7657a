// Argument parsing with node:util parseArgs: unknown flags and missing values are CliErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { CliError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'nats-url': { type: 'string' },
} as const satisfies Options;

export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message.replace(/\.$/, ''), `See \`${usage} --help\``);
  }
}

/** The positional at `index`, or a CliError naming it. */
export function positional(positionals: string[], index: number, name: string, usage: string): string {
  const value = positionals[index];
  if (value === undefined) throw new CliError(`missing <${name}>`, `Usage: ${usage}`);
  return value;
}
