// The built `cairn` binary run as a user runs it (bin/cairn.js, needs `npm run build`): one
// command to its end, or `cairn up` in the background until it says it is ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { REPO } from './helpers.js';

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BASE_ENV = (): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  CAIRN_LOG_LEVEL: 'silent',
});

/** `cairn <args>` to its exit, with only PATH and `env` set; `input` goes to stdin. */
export function cairnBin(
  args: string[],
  env: Record<string, string> = {},
  opts: { cwd?: string; shell?: string } = {},
): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const bin = join(REPO, 'bin/cairn.js');
    const child =
      opts.shell === undefined
        ? spawn(process.execPath, [bin, ...args], { cwd: opts.cwd ?? REPO, env: { ...BASE_ENV(), ...env } })
        : // A shell pipeline such as `$CAIRN … | head -1`: `$CAIRN` is the binary.
          spawn('sh', ['-c', opts.shell.replaceAll('$CAIRN', `"${process.execPath}" "${bin}"`)], {
            cwd: opts.cwd ?? REPO,
            env: { ...BASE_ENV(), ...env },
          });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface UpProcess {
  /** Everything `cairn up` wrote to stderr so far. */
  stderr(): string;
  /** The HTTP Tracking API's port. */
  httpPort: number;
  stop(): Promise<number | null>;
}

/** `cairn up` with `env` (HTTP and metrics on free ports), resolved once it is ready. */
export async function startUpBin(env: Record<string, string>): Promise<UpProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(REPO, 'bin/cairn.js'), 'up'], {
    cwd: REPO,
    env: { ...BASE_ENV(), CAIRN_HTTP_PORT: '0', CAIRN_ADMIN_PORT: '0', CAIRN_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const httpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cairn up not ready in 60 s:\n${stderr}`)), 60_000);
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const port = /Tracking API on :(\d+)/.exec(stderr)?.[1];
      if (port !== undefined && /cairn up: ready/.test(stderr)) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cairn up exited (${code}) before ready:\n${stderr}`));
    });
  });
  return {
    stderr: () => stderr,
    httpPort,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A journey forwarding every form to destination `sink` (the newcomer tests publish it). */
export const FORWARD_JOURNEY = `id: forward
name: Forward
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: messageId }
steps:
  - { id: send, type: send, to: [sink], event: Form Submitted }
`;
