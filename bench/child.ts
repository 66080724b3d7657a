// Forks bench/worker.js (the process under test) and talks to it over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { ToParent, ToWorker, WorkerStats } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface WorkerOptions {
  /** Extra environment: NATS_URL, CAIRN_*, BENCH_MODE, BENCH_SERVICES, BENCH_SINK_URL. */
  env: Record<string, string>;
  /** Directory for a V8 CPU profile (node --cpu-prof), when profiling. */
  cpuProfDir?: string | undefined;
}

export interface Worker {
  /** With BENCH_WAIT_GO=1: starts the services; resolves once they are started. */
  go(): Promise<void>;
  stats(): Promise<WorkerStats>;
  /** Stops the services cleanly and waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: an outage. */
  kill(): Promise<void>;
}

export async function startWorker(opts: WorkerOptions): Promise<Worker> {
  const execArgv = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  const child: ChildProcess = fork(WORKER, [], {
    env: { ...process.env, CAIRN_LOG_LEVEL: 'error', CAIRN_METRICS_PORT: '0', ...opts.env },
    execArgv,
    // The worker's logs go to stderr: stdout holds the scenario lines only.
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let statsWaiter: ((s: WorkerStats) => void) | undefined;
  let startedWaiter: (() => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    child.on('message', (msg: ToParent) => {
      if (msg.type === 'ready') resolve();
      if (msg.type === 'error') reject(new Error(`bench worker failed: ${msg.message}`));
      if (msg.type === 'stats') statsWaiter?.(msg.stats);
      if (msg.type === 'started') startedWaiter?.();
    });
    void exited.then(() => reject(new Error(`bench worker exited with ${child.exitCode}`)));
  });
  const tell = (msg: ToWorker): void => {
    if (child.connected) child.send(msg);
  };
  return {
    go() {
      return new Promise((resolve, reject) => {
        startedWaiter = resolve;
        void exited.then(() => reject(new Error(`bench worker exited with ${child.exitCode}`)));
        tell({ type: 'go' });
      });
    },
    stats() {
      // One question at a time; a worker that died or hangs fails the scenario instead of the run.
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('bench worker: no stats within 15 s')), 15_000);
        statsWaiter = (s) => {
          clearTimeout(timer);
          resolve(s);
        };
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`bench worker exited with ${child.exitCode}`));
        });
        tell({ type: 'stats' });
      });
    },
    async stop() {
      tell({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
