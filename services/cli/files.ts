// Reading the files a command is given, with errors that say which file and what to do.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { CliError, type CliIo } from './io.js';

export async function readText(io: CliIo, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code})`;
    throw new CliError(`${file} ${why}`, 'Check the path and try again');
  }
}

/** YAML or JSON (YAML reads both). */
export async function readDocument(io: CliIo, file: string): Promise<unknown> {
  const text = await readText(io, file);
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw new CliError(
      `${file} is not valid YAML or JSON (${(err as Error).message.split('\n')[0]})`,
      'Fix the syntax',
    );
  }
}
