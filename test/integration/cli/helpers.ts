// An in-memory CliIo: commands run in-process, their output captured line by line.
import { fileURLToPath } from 'node:url';

import type { CliIo } from '../../../services/cli/io.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface CapturedIo extends CliIo {
  stdout: string[];
  stderr: string[];
  text(): string;
}

export function captureIo(env: Record<string, string | undefined> = {}): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    env: { CAIRN_LOG_LEVEL: 'silent', ...env },
    cwd: REPO,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    text: () => [...stdout, ...stderr].join('\n'),
  };
}
