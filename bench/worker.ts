// The process under test, forked by the bench (bench/child.ts): either Cairn's services (the
// ones named in BENCH_SERVICES, configured by the CAIRN_* environment as `cairn up` would be) or
// the hand-written baseline pipeline. It answers `stats` with its RSS and CPU time, and `stop`
// by stopping cleanly (so that --cpu-prof writes its profile).
import { connectBus, provision, type Bus } from '../libs/bus/index.js';
import { loadConfig } from '../libs/config/index.js';
import {
  createLogger,
  createMetrics,
  type RunningService,
  type ServiceContext,
} from '../libs/telemetry/index.js';
import { startIngest } from '../services/ingest/index.js';
import { startMatcher } from '../services/matcher/index.js';
import { startSender } from '../services/sender/index.js';
import { startTimer } from '../services/timer/index.js';
import { startBaselinePipeline } from './baseline-pipeline.js';

export interface WorkerStats {
  rssBytes: number;
  maxRssBytes: number;
  heapUsedBytes: number;
  cpuMs: number;
}

export type ToParent =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'error'; message: string };
export type ToWorker = { type: 'stats' } | { type: 'stop' } | { type: 'go' };

const SERVICE_ORDER = ['sender', 'timer', 'matcher', 'ingest'] as const;

function stats(): WorkerStats {
  const cpu = process.cpuUsage();
  return {
    rssBytes: process.memoryUsage().rss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: process.memoryUsage().heapUsed,
    cpuMs: (cpu.user + cpu.system) / 1_000,
  };
}

type IngestStart = (ctx: ServiceContext, opts: { http?: boolean }) => Promise<RunningService>;

/** Ingest, with the HTTP Tracking API when asked (an option of startIngest once the API exists). */
function startIngestWith(ctx: ServiceContext, http: boolean): Promise<RunningService> {
  return (startIngest as IngestStart)(ctx, http ? { http: true } : {});
}

function send(msg: ToParent): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig(env);
  const logger = createLogger({ name: 'bench-worker', level: env['BENCH_LOG'] ?? 'error' });
  const bus: Bus = await connectBus({ url: config.natsUrl, name: 'bench-worker', logger });
  const running: RunningService[] = [];
  // BENCH_WAIT_GO=1: ready once loaded, connected and provisioned; the services start on `go`
  // (so that several workers, forked one by one, start consuming at one instant).
  const gated = env['BENCH_WAIT_GO'] === '1';
  let go: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (go = resolve));
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'go') go();
    if (msg.type === 'stats') send({ type: 'stats', stats: stats() });
    if (msg.type === 'stop') {
      void (async () => {
        await Promise.allSettled(running.map((s) => s.stop(2_000)));
        await bus.close().catch(() => undefined);
        process.exit(0);
      })();
    }
  });
  process.on('disconnect', () => process.exit(0));
  const baseline = env['BENCH_MODE'] === 'baseline';
  if (!baseline) await provision(bus, config, logger);
  if (gated) {
    send({ type: 'ready' });
    await released;
  }
  if (baseline) {
    running.push(await startBaselinePipeline(bus, env['BENCH_SINK_URL'] ?? ''));
  } else {
    const ctx = { config, bus, logger, metrics: createMetrics() };
    const wanted = new Set((env['BENCH_SERVICES'] ?? 'ingest,matcher,timer,sender').split(','));
    for (const name of SERVICE_ORDER) {
      if (!wanted.has(name)) continue;
      if (name === 'sender') running.push(await startSender(ctx));
      if (name === 'timer') running.push(await startTimer(ctx));
      if (name === 'matcher') running.push(await startMatcher(ctx));
      if (name === 'ingest') running.push(await startIngestWith(ctx, env['BENCH_INGEST_HTTP'] === '1'));
    }
  }
  send({ type: gated ? 'started' : 'ready' });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
