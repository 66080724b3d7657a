// A real Prometheus per test (Debian's `prometheus` package, as .ci/run installs it): random port,
// temp storage dir, killed and cleaned up in teardown; and promtool. Like nats-server.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './nats-server.js';

const INSTALL_HINT =
  "install Debian's prometheus package (apt-get install -y prometheus), as .ci/run does, or put the binary on PATH";

/** The path of `name` on PATH, or an Error saying how to get it. */
export function requireBinary(name: 'promtool' | 'prometheus'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') throw new Error(`${name} not found on PATH: ${INSTALL_HINT}`);
  return path;
}

export interface PromtoolResult {
  code: number | null;
  output: string;
}

export function promtool(args: string[], cwd?: string): PromtoolResult {
  const bin = requireBinary('promtool');
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface PrometheusOptions {
  /** host:port of each target to scrape at /metrics. */
  targets: string[];
  ruleFiles: string[];
  /** Scrape and rule evaluation interval (default 1s). */
  interval?: string;
}

export interface PrometheusHandle {
  url: string;
  /** GET /api/v1/<path> with `params`; throws on an error answer. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

export interface PromSeries {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  value?: [number, string];
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

export async function startPrometheus(
  t: { teardown(fn: () => unknown): void },
  opts: PrometheusOptions,
): Promise<PrometheusHandle> {
  const bin = requireBinary('prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'cairn-prometheus-'));
  const interval = opts.interval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles,
    scrape_configs: [{ job_name: 'cairn', static_configs: [{ targets: opts.targets }] }],
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  t.teardown(stop);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready on ${url} within 20 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
      const res = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params).toString()}`);
      const body = (await res.json()) as ApiAnswer<T>;
      if (body.status !== 'success')
        throw new Error(`prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
      return body.data;
    },
    stop,
  };
}
