// Shared by the end-to-end and pipeline tests: the four services in this process against a real nats-server,
// a real local webhook sink, and the simulator as the oracle of what the sink must receive.
import {
  parseDestinationFile,
  publishJourneyVersion,
  putDestination,
  type Bus,
  type ServiceRole,
} from '../../libs/bus/index.js';
import type { Config } from '../../libs/config/index.js';
import {
  compile,
  makeEvent,
  parseJourney,
  simulate,
  type JourneyDocument,
  type Timeline,
} from '../../libs/journey/index.js';
import {
  createMetrics,
  startLifecycle,
  type Lifecycle,
  type Metrics,
  type RunningService,
} from '../../libs/telemetry/index.js';
import { startAllServices, stageConnector } from '../../services/cli/up.js';
import { startIngest, type Ingest, type IngestOptions } from '../../services/ingest/index.js';
import { startMatcher } from '../../services/matcher/index.js';
import { startSender } from '../../services/sender/index.js';
import { startTimer } from '../../services/timer/index.js';
import { silentLogger, waitUntil, withBus, type TestBus } from './bus.js';
import { startHttpSink, type HttpSink, type RecordedRequest } from './http-sink.js';

interface Teardownable {
  teardown(fn: () => unknown): void;
}

export interface Pipeline extends TestBus {
  sink: HttpSink;
  ingest: Ingest;
  services: RunningService[];
  metrics: Metrics;
}

/** A provisioned bus, the four services in-process, and a webhook destination `sink`;
 * `matcherBus` may wrap the bus the matcher is given (e.g. to hold some of its reads). */
export async function startPipeline(
  t: Teardownable,
  env: Record<string, string> = {},
  ingestOptions: IngestOptions = {},
  matcherBus: (bus: Bus) => Bus = (bus) => bus,
): Promise<Pipeline> {
  const testBus = await withBus(t, {
    CAIRN_PARTITIONS: '4',
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    ...env,
  });
  const { bus, config } = testBus;
  const sink = await startHttpSink();
  t.teardown(() => sink.close());
  const ctx = { config, bus, logger: silentLogger, metrics: createMetrics({ defaultMetrics: false }) };
  const ingest = await startIngest(ctx, ingestOptions);
  const matcher = await startMatcher({ ...ctx, bus: matcherBus(bus) });
  const services = [ingest, matcher, await startTimer(ctx), await startSender(ctx)];
  t.teardown(async () => {
    for (const s of [...services].reverse()) await s.stop(2000);
  });
  await waitUntil(() => services.every((s) => s.isReady()), 10_000, 'services ready');
  await putDestination(bus, parseDestinationFile({ id: 'sink', type: 'webhook', url: `${sink.url}/hook` }));
  return { ...testBus, sink, ingest, services, metrics: ctx.metrics };
}

export function journey(text: string): JourneyDocument {
  const parsed = parseJourney(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.journey;
}

export async function publishJourneys(bus: Bus, ...docs: JourneyDocument[]): Promise<void> {
  for (const doc of docs) await publishJourneyVersion(bus, doc);
}

/** An event as a producer writes it: `[type, body]`. */
export type ProducerEvent = [type: 'track' | 'identify', body: Record<string, unknown>];

export async function publishEvent(bus: Bus, [type, body]: ProducerEvent): Promise<void> {
  await bus.js.publish(`events.${type}`, JSON.stringify({ type, ...body }));
}

/** Publishes with up to `window` acks outstanding (order per subject is the stream's order). */
export async function publishEvents(bus: Bus, events: ProducerEvent[], window = 256): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (const [type, body] of events) {
    const p = bus.js.publish(`events.${type}`, JSON.stringify({ type, ...body }));
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= window) await Promise.race(pending);
  }
  await Promise.all(pending);
}

/** The oracle: the same events through the simulator, one millisecond apart unless `offsets`
 * gives each one's time (ms from the first). */
export function oracle(docs: JourneyDocument[], events: ProducerEvent[], offsets?: number[]): Timeline {
  const start = Date.UTC(2026, 0, 1);
  return simulate(
    docs.map((d) => compile(d, { version: 1 })),
    events.map(([type, body], i) =>
      makeEvent({
        type,
        name: type === 'track' ? String(body['event']) : type,
        userId: String(body['userId']),
        messageId: String(body['messageId']),
        properties: (body['properties'] as Record<string, unknown>) ?? {},
        traits: (body['traits'] as Record<string, unknown>) ?? {},
        at: start + (offsets?.[i] ?? i),
      }),
    ),
  );
}

/** The delivery id of a request at the sink (`idempotency-key`, also `webhook-id` when signed). */
export function deliveryIdOf(r: RecordedRequest): string {
  return String(r.headers['idempotency-key']);
}

export type { Config, RecordedRequest };

/**
 * `cairn up` in this process (every stage on its own connection, as the CLI runs it), stopped in
 * teardown; `onStage` sees each stage's connection as it is made.
 */
export async function startUp(
  t: { teardown(fn: () => unknown): void },
  config: Config,
  onStage: (stage: ServiceRole, bus: Bus) => void = () => undefined,
): Promise<Lifecycle> {
  const life = await startLifecycle({
    name: 'up',
    config,
    logger: silentLogger,
    start: (ctx) =>
      startAllServices(ctx, {
        connectStage: async (stage) => {
          const bus = await stageConnector(ctx)(stage);
          onStage(stage, bus);
          return bus;
        },
      }),
  });
  t.teardown(() => life.stop());
  return life;
}
