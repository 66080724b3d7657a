// The world a fault scenario runs in: a real nats-server (one node, or a 3-node cluster with every
// stream and bucket at R3), the four services each as its own OS process (logs kept in files so a
// failure can be traced), a webhook sink whose behaviour can be switched (ok, time out, reset,
// 500), a seeded random source, and the log of the faults injected.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  BUCKETS,
  connectBus,
  parseDestinationFile,
  provision,
  publishJourneyVersion,
  putDestination,
  type Bus,
  type KvStore,
} from '../../libs/bus/index.js';
import { loadConfig } from '../../libs/config/index.js';
import type { JourneyDocument } from '../../libs/journey/index.js';
import { silentLogger } from '../helpers/bus.js';
import { startHttpSink, type HttpSink, type SinkResponse } from '../helpers/http-sink.js';
import { withNatsCluster, type NatsClusterHandle } from '../helpers/nats-cluster.js';
import { startCanaries, watchReplicas, type Canaries, type ReplicaWatch } from './replicas.js';
import { withNats, type NatsServerHandle } from '../helpers/nats-server.js';
import { REPO, type ServiceName } from '../e2e/processes.js';

export const SERVICES: readonly ServiceName[] = ['ingest', 'matcher', 'timer', 'sender'];

interface Teardownable {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the sink does with the requests that arrive now. */
export type SinkMode = 'ok' | 'timeout' | 'reset' | 'error500';

/** One request at the sink and what it was answered (a 2xx in mode `ok` is a success). */
export interface Receipt {
  id: string;
  at: number;
  mode: SinkMode;
}

export interface Fault {
  kind: string;
  target: string;
  start: number;
  /** When the fault was over (the process restarted, the node back, the destination healthy). */
  end: number;
  /** Whether the sender's writes to KV `sent` could fail during it (a NATS fault). */
  busFault: boolean;
}

export interface World {
  name: string;
  seed: number;
  random: () => number;
  bus: Bus;
  sent: KvStore;
  sink: HttpSink;
  receipts: Receipt[];
  setSinkMode(mode: SinkMode): void;
  server?: NatsServerHandle;
  cluster?: NatsClusterHandle;
  /** The cluster's own account of its stream leaders and replicas, watched all along. */
  replicas?: ReplicaWatch;
  /** Canaries on MATCH, TIMERS and DELIVER: whether the server kept what it acknowledged. */
  canaries?: Canaries;
  faults: Fault[];
  /** Delivery ids the destination had received but the sender had not recorded in `sent` at a
   * sender kill or stop: the documented at-least-once window. */
  unrecordedAtKill: Set<string>;
  logDir: string;
  start(name: ServiceName): Promise<void>;
  kill(name: ServiceName): Promise<void>;
  signal(name: ServiceName, sig: 'SIGSTOP' | 'SIGCONT'): void;
  /** Records the delivery ids received and not recorded as sent, right after a sender fault. */
  snapshotUnrecorded(): Promise<void>;
  log(message: string): void;
}

export interface WorldOptions {
  name: string;
  cluster?: boolean;
  partitions?: number;
  /** More service settings. */
  env?: Record<string, string>;
  /** The sink destination's own settings (timeout, circuit, …). */
  destination?: Record<string, unknown>;
  /** Journeys published before the services start (so that the matcher has them compiled). */
  journeys: JourneyDocument[];
  /** A host clock offset per service (libfaketime's `FAKETIME`, e.g. `+4s`): a skewed host. */
  clocks?: Partial<Record<ServiceName, string>>;
}

/** Debian's libfaketime (package faketime): shifts the wall clock of one process, not its
 * monotonic clock, the way a host whose clock is off would be. */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

const READY_TIMEOUT_MS = 60_000;

interface Proc {
  child: ChildProcess;
  ready: Promise<void>;
}

function spawnLogged(name: ServiceName, env: Record<string, string>, out: WriteStream, clock?: string): Proc {
  const skew = clock ? { LD_PRELOAD: LIBFAKETIME, FAKETIME: clock, FAKETIME_DONT_FAKE_MONOTONIC: '1' } : {};
  const child = spawn(process.execPath, [join(REPO, 'dist/services', name, 'main.js')], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', CAIRN_LOG_LEVEL: 'info', ...env, ...skew },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.on('data', (c: Buffer) => {
      seen = (seen + c.toString()).slice(-4_000);
      if (/"state":"ready"/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? sig}) before ready; see its log`));
    });
  });
  ready.catch(() => undefined);
  return { child, ready };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export function seedFromEnv(): number {
  const given = process.env['CAIRN_FAULTS_SEED'];
  return given !== undefined && given !== '' ? Number(given) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

export async function startWorld(t: Teardownable, opts: WorldOptions): Promise<World> {
  const seed = seedFromEnv();
  const random = seededRandom(seed);
  const logDir = join(process.env['CAIRN_FAULTS_LOG_DIR'] ?? tmpdir(), `cairn-faults-${opts.name}-${seed}`);
  mkdirSync(logDir, { recursive: true });
  t.comment(`${opts.name}: seed ${seed} (replay with CAIRN_FAULTS_SEED=${seed}); logs in ${logDir}`);
  const events = createWriteStream(join(logDir, 'faults.log'));
  const log = (message: string): void => {
    events.write(`${new Date().toISOString()} ${message}\n`);
  };

  let server: NatsServerHandle | undefined;
  let cluster: NatsClusterHandle | undefined;
  if (opts.cluster) cluster = await withNatsCluster(t);
  const replicaWatch = cluster ? watchReplicas(cluster) : undefined;
  if (replicaWatch) t.teardown(() => replicaWatch.stop());
  else server = await withNats(t);
  const url = cluster?.url ?? server?.url ?? '';
  const replicas = opts.cluster ? '3' : '1';
  const partitions = String(opts.partitions ?? 8);

  const env: Record<string, string> = {
    NATS_URL: url,
    CAIRN_PARTITIONS: partitions,
    CAIRN_REPLICAS: replicas,
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_ACK_WAIT: '2s',
    // A service restarted after a kill takes its partitions' leases over once they ran out.
    CAIRN_LEASE_TTL: '3s',
    CAIRN_SHUTDOWN_GRACE: '1s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    CAIRN_METRICS_PORT: '0',
    CAIRN_HTTP_PORT: '0',
    ...opts.env,
  };
  const config = loadConfig({ ...env });
  const bus = await connectBus({ url, name: `faults-${opts.name}`, logger: silentLogger });
  t.teardown(() => bus.close());
  await provision(bus, config, silentLogger);
  const sent = await bus.store(BUCKETS.sent);
  const canaries = cluster ? startCanaries(bus) : undefined;
  if (canaries) t.teardown(() => canaries.check().then(() => undefined));

  let mode: SinkMode = 'ok';
  const receipts: Receipt[] = [];
  const sink = await startHttpSink((req) => {
    const id = String(req.headers['idempotency-key']);
    receipts.push({ id, at: req.at, mode });
    const answers: Record<SinkMode, SinkResponse> = {
      ok: { status: 200 },
      // Longer than the destination's timeout: the sender gives up before the answer.
      timeout: { status: 200, delayMs: 5_000 },
      reset: { status: 0, reset: true },
      error500: { status: 500 },
    };
    return answers[mode];
  });
  t.teardown(() => sink.close());

  const running = new Map<ServiceName, Proc>();
  const recorded = new Set<string>();
  const outs = new Map<ServiceName, WriteStream>();
  const outOf = (name: ServiceName): WriteStream => {
    let out = outs.get(name);
    if (!out) {
      out = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      outs.set(name, out);
    }
    return out;
  };
  t.teardown(async () => {
    for (const p of running.values()) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
      await exited(p.child);
    }
    for (const out of outs.values()) out.end();
    events.end();
  });

  const world: World = {
    name: opts.name,
    seed,
    random,
    bus,
    sent,
    sink,
    receipts,
    setSinkMode(next) {
      log(`sink mode ${next}`);
      mode = next;
    },
    ...(server ? { server } : {}),
    ...(cluster ? { cluster } : {}),
    ...(replicaWatch ? { replicas: replicaWatch } : {}),
    ...(canaries ? { canaries } : {}),
    faults: [],
    unrecordedAtKill: new Set(),
    logDir,
    async start(name) {
      outOf(name).write(`\n--- start ${new Date().toISOString()}\n`);
      const p = spawnLogged(name, env, outOf(name), opts.clocks?.[name]);
      running.set(name, p);
      await p.ready;
      log(`${name} ready`);
    },
    async kill(name) {
      const p = running.get(name);
      if (!p) return;
      p.child.kill('SIGKILL');
      await exited(p.child);
      running.delete(name);
      outOf(name).write(`\n--- SIGKILL ${new Date().toISOString()}\n`);
      log(`${name} SIGKILL`);
    },
    signal(name, sig) {
      running.get(name)?.child.kill(sig);
      log(`${name} ${sig}`);
    },
    async snapshotUnrecorded() {
      // Let the bytes of a request that reached the sink before the kill be read.
      await new Promise((r) => setTimeout(r, 300));
      const ids = new Set(receipts.map((r) => r.id));
      let unrecorded = 0;
      for (const id of ids) {
        if (world.unrecordedAtKill.has(id) || recorded.has(id)) continue;
        const rec = await sent.get(id).catch(() => null);
        if (rec === null || rec.operation !== 'PUT') {
          world.unrecordedAtKill.add(id);
          unrecorded++;
        } else recorded.add(id); // a record stays: no need to read it again
      }
      log(`snapshot: ${unrecorded} received and not recorded as sent`);
    },
    log,
  };

  // Journeys and the destination first: a trigger that arrives while a journey version is being
  // published is another test's subject (test/integration/matcher), not a fault's.
  for (const doc of opts.journeys) await publishJourneyVersion(bus, doc);
  await putDestination(
    bus,
    parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook`, ...opts.destination }),
  );
  // Everything is provisioned already: the services start side by side (a minute less on a
  // loaded host than one after the other).
  await Promise.all(SERVICES.map((name) => world.start(name)));
  return world;
}

/** Runs `fault` (which injects and heals one fault) and records its interval. */
export async function inject(
  world: World,
  kind: string,
  target: string,
  busFault: boolean,
  fault: () => Promise<void>,
): Promise<void> {
  const start = Date.now();
  world.log(`fault ${kind} ${target} begins`);
  await fault();
  const end = Date.now();
  world.faults.push({ kind, target, start, end, busFault });
  world.log(`fault ${kind} ${target} healed after ${end - start} ms`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A uniform duration in [min, max) ms from the world's seeded source. */
export const between = (world: World, min: number, max: number): number =>
  Math.floor(min + world.random() * (max - min));
