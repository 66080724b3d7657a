// `cairn up` without a NATS: a local nats-server child process with JetStream, its store in
// .cairn/nats, killed when Cairn exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { resolve } from 'node:path';

import { CliError } from './io.js';

export const LOCAL_STORE_DIR = '.cairn/nats';
const READY_TIMEOUT_MS = 15_000;

export interface LocalNats {
  url: string;
  port: number;
  storeDir: string;
  stop(): Promise<void>;
}

/** A port the OS considers free right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => done(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export async function startLocalNats(cwd: string, bin = 'nats-server'): Promise<LocalNats> {
  const storeDir = resolve(cwd, LOCAL_STORE_DIR);
  await mkdir(storeDir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches Cairn only, which drains first and then
    // stops the server (below), instead of losing it mid-drain.
    detached: true,
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  const spawnError = new Promise<NodeJS.ErrnoException>((done) => child.once('error', done));
  let failed: NodeJS.ErrnoException | undefined;
  void spawnError.then((err) => (failed = err));
  // The child must not outlive us, whatever way we exit.
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', kill);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (failed?.code === 'ENOENT') {
      throw new CliError(
        `${bin} is not on PATH, and no NATS answers`,
        'Install nats-server 2.10+ (https://github.com/nats-io/nats-server/releases, `brew install nats-server`, or `go install github.com/nats-io/nats-server/v2@latest`), or set NATS_URL to a running one',
      );
    }
    if (failed)
      throw new CliError(`cannot start ${bin} (${failed.message})`, 'Check the binary, or set NATS_URL');
    if (child.exitCode !== null) {
      throw new CliError(
        `${bin} exited with ${child.exitCode} at start: ${log.trim().split('\n').pop() ?? ''}`,
        `Check ${LOCAL_STORE_DIR}, or set NATS_URL`,
      );
    }
    if (log.includes('Server is ready') && (await canConnect(port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new CliError(
        `${bin} was not ready within ${READY_TIMEOUT_MS / 1000}s`,
        'Start one yourself and set NATS_URL',
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: LOCAL_STORE_DIR,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
