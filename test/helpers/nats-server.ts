// A real nats-server per test (STYLE.md rule 10): random port, temp store dir, killed and
// cleaned up in teardown. Modelled on nats.js' `nst` launcher.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { canConnect, freePort } from '../../services/cli/local-nats.js';

export { freePort };

export interface NatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Store directory; a fresh temp dir (removed on stop) when omitted. */
  storeDir?: string;
  /** Port; a random free one when omitted. */
  port?: number;
  /** More command-line arguments (cluster routes, a config file, …). */
  args?: string[];
}

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** SIGTERM, wait for exit, remove the temp store dir (when we created it). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit; keeps the store dir so that `restart()` can recover it. */
  kill(): Promise<void>;
  /** Stop (gracefully if running) and start again on the same port and store dir. */
  restart(): Promise<void>;
  /** Start again after `kill()` (no-op while running), on the same port and store dir. */
  start(): Promise<void>;
  /** Sends a signal without waiting (SIGSTOP / SIGCONT). */
  signal(sig: NodeJS.Signals): void;
  /** Whether the process is up (not killed or stopped by us). */
  running(): boolean;
}

const NATS_BIN = process.env['CAIRN_TEST_NATS_SERVER'] ?? 'nats-server';
const READY_TIMEOUT_MS = 10_000;

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(
  port: number,
  storeDir: string,
  jetstream: boolean,
  extra: string[] = [],
): Promise<ChildProcess> {
  const args = ['-a', '127.0.0.1', '-p', String(port), ...extra];
  if (jetstream) args.push('-js', '-sd', storeDir);
  const child = spawn(NATS_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep only the tail: enough to explain a failed start.
    log = (log + chunk.toString()).slice(-4_000);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nats-server exited with ${child.exitCode} before ready:\n${log}`);
    }
    if (log.includes('Server is ready') && (await canConnect(port))) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server not ready on port ${port} within ${READY_TIMEOUT_MS} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const jetstream = opts.jetstream ?? true;
  const ownsStore = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'cairn-nats-')));
  const port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined = await launch(port, storeDir, jetstream, opts.args);

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current) return;
    const exited = waitExit(current);
    current.kill(sig);
    await exited;
  };

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async stop() {
      await signal('SIGTERM');
      if (ownsStore) await rm(storeDir, { recursive: true, force: true });
    },
    async kill() {
      await signal('SIGKILL');
    },
    async restart() {
      await signal('SIGTERM');
      child = await launch(port, storeDir, jetstream, opts.args);
    },
    async start() {
      if (child) return;
      child = await launch(port, storeDir, jetstream, opts.args);
    },
    signal(sig: NodeJS.Signals) {
      child?.kill(sig);
    },
    running() {
      return child !== undefined;
    },
  };
}

/** Minimal shape of a tap test we need, so this helper does not pin tap's types. */
interface Teardownable {
  teardown(fn: () => unknown): void;
}

/** Starts a server for one tap test (or file) and stops it in teardown. */
export async function withNats(t: Teardownable, opts?: NatsServerOptions): Promise<NatsServerHandle> {
  const server = await startNatsServer(opts);
  t.teardown(() => server.stop());
  return server;
}
