// The bench's own nats-server (random port, temp store, killed at the end), the machine line and
// small helpers. Modelled on test/helpers/nats-server.ts, kept here so that the bench builds alone.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { canConnect, freePort } from '../services/cli/local-nats.js';

export { freePort };

const NATS_BIN = process.env['CAIRN_BENCH_NATS_SERVER'] ?? 'nats-server';
const READY_TIMEOUT_MS = 10_000;

export interface BenchServer {
  url: string;
  storeDir: string;
  /** The server's process id (for its CPU time and RSS). */
  pid(): number | undefined;
  /** Messages in and out so far, from the monitoring endpoint's /varz (started with `monitor`). */
  messages(): Promise<{ in: number; out: number }>;
  stop(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fresh nats-server with JetStream on a random port and a temp store dir; `monitor` also opens
 * its HTTP monitoring port (for `messages()`). */
export async function startServer(opts: { monitor?: boolean } = {}): Promise<BenchServer> {
  const storeDir = await mkdtemp(join(tmpdir(), 'cairn-bench-'));
  const port = await freePort();
  const monitorPort = opts.monitor ? await freePort() : 0;
  const monitorArgs = opts.monitor ? ['-m', String(monitorPort)] : [];
  const child: ChildProcess = spawn(
    NATS_BIN,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...monitorArgs],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}:\n${log}`);
    if (log.includes('Server is ready') && (await canConnect(port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server not ready on port ${port}:\n${log}`);
    }
    await sleep(25);
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    pid: () => child.pid,
    async messages() {
      if (!opts.monitor) throw new Error('bench server started without monitor: no /varz');
      const varz = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as {
        in_msgs: number;
        out_msgs: number;
      };
      return { in: varz.in_msgs, out: varz.out_msgs };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        // A server busy with millions of subjects may take long to shut down: it is a temp store.
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

export interface Machine {
  /** The commit measured, `+dirty` when the working tree had changes. */
  commit: string;
  cores: number;
  cpu: string;
  node: string;
  natsServer: string;
}

export function machine(): Machine {
  let natsServer = 'unknown';
  try {
    natsServer = execFileSync(NATS_BIN, ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^nats-server:\s*/, '');
  } catch {
    // Reported as unknown; startServer fails with the reason.
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim()) commit += '+dirty';
  } catch {
    // Not a git checkout.
  }
  return {
    commit,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    natsServer,
  };
}

/** Polls `cond` until it holds; false when `timeoutMs` passed first. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (0 where unavailable). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
  } catch {
    return 0;
  }
}
