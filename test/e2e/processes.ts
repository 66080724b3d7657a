// Each Cairn service as its own OS process (`node dist/services/<name>/main.js`, the way
// Kubernetes runs them), so that a test can SIGKILL one mid-flight and start it again.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ServiceName = 'ingest' | 'matcher' | 'timer' | 'sender' | 'admin';

export interface ServiceProcess {
  name: ServiceName;
  /** Resolves when the service logged `lifecycle` ready. */
  ready: Promise<void>;
  /** SIGKILL: no drain, no acks, nothing flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGSTOP: the process is frozen (no pull, no ack, no heartbeat) until `resume`. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Everything it wrote to stderr and the tail of stdout, for failure messages. */
  output(): string;
  /** SIGSTOP / SIGCONT: frozen with its connection open, then woken. */
  signal(sig: 'SIGSTOP' | 'SIGCONT'): void;
  /** The port of its /metrics (known once it is ready). */
  metricsPort(): number;
}

const READY_TIMEOUT_MS = 20_000;

export interface SpawnOptions {
  /** How long to wait for the ready line (default 20 s; several processes starting at once on a
   * loaded host take longer). */
  readyTimeoutMs?: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

export function spawnService(
  name: ServiceName,
  env: Record<string, string>,
  { readyTimeoutMs = READY_TIMEOUT_MS }: SpawnOptions = {},
): ServiceProcess {
  const child = spawn(process.execPath, [join(REPO, 'dist/services', name, 'main.js')], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', CAIRN_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let metricsPort = 0;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready within ${readyTimeoutMs} ms:\n${stderr}${stdout}`)),
      readyTimeoutMs,
    );
    child.stdout.on('data', (c: Buffer) => {
      stdout = (stdout + c.toString()).slice(-20_000);
      if (/"state":"ready"/.test(stdout)) {
        metricsPort = Number(/"state":"ready","metricsPort":(\d+)/.exec(stdout)?.[1] ?? 0);
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before ready:\n${stderr}${stdout}`));
    });
  });
  ready.catch(() => undefined);
  return {
    name,
    ready,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      child.kill('SIGTERM');
      return exited(child);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    output: () => `${stderr}${stdout.slice(-4_000)}`,
    signal(sig) {
      child.kill(sig);
    },
    metricsPort: () => metricsPort,
  };
}
