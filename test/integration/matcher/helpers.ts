// Shared setup of the matcher tests: a provisioned bus (2 partitions, 1 s timer buckets), the
// matcher started on it, and readers of what it published (read from the streams themselves,
// so that a publish JetStream dropped as a duplicate is not counted).
import {
  DeliverJobMessage,
  JournalMessage,
  MatchEventMessage,
  partitionOf,
  STREAMS,
  TimerMessage,
  type Bus,
  type DeliverJob,
  type TimerRecord,
} from '../../../libs/bus/index.js';
import type { JournalRecord, NormalizedEvent } from '../../../libs/journey/index.js';
import { createMetrics, type Metrics } from '../../../libs/telemetry/index.js';
import { retentionInstanceId, startMatcher, type Matcher } from '../../../services/matcher/index.js';

import { silentLogger, waitUntil, withBus, type TestBus } from '../../helpers/bus.js';

export interface Stored<T> {
  subject: string;
  value: T;
}

async function readStream<T>(bus: Bus, stream: string, decode: (b: Uint8Array) => T): Promise<Stored<T>[]> {
  const info = await bus.jsm.streams.info(stream);
  const out: Stored<T>[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push({ subject: m.subject, value: decode(m.data) });
  }
  return out;
}

export interface MatcherHarness extends TestBus {
  metrics: Metrics;
  start(): Promise<Matcher>;
  partition(userKey: string): number;
  sendEvent(event: NormalizedEvent, msgId?: string): Promise<void>;
  sendTimer(timer: TimerRecord, p: number): Promise<void>;
  /** Waits until the matcher consumed everything on MATCH (a work queue: acked = removed). */
  drained(): Promise<void>;
  /** The journey timers on TIMERS (waits of holds and delays). */
  timers(): Promise<Stored<TimerRecord>[]>;
  /** The retention timers of ended instances on TIMERS (`retain:<instanceId>`). */
  retentionTimers(): Promise<Stored<TimerRecord>[]>;
  deliveries(): Promise<Stored<DeliverJob>[]>;
  journal(): Promise<Stored<JournalRecord>[]>;
}

export async function withMatcher(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<MatcherHarness> {
  const tb = await withBus(t, { CAIRN_PARTITIONS: '2', CAIRN_TIMER_BUCKET: '1s', ...env });
  const metrics = createMetrics({ defaultMetrics: false });
  const { bus } = tb;
  const partition = (userKey: string): number => partitionOf(userKey, tb.config.partitions);
  return {
    ...tb,
    metrics,
    partition,
    async start() {
      const m = await startMatcher({ config: tb.config, bus, logger: silentLogger, metrics });
      t.teardown(() => m.stop(1_000));
      return m;
    },
    async sendEvent(event, msgId) {
      await bus.js.publish(
        `match.${partition(event.userKey)}.event`,
        MatchEventMessage.encode({ v: 1, kind: 'event', event }),
        { msgID: msgId ?? event.messageId },
      );
    },
    async sendTimer(timer, p) {
      await bus.js.publish(`match.${p}.timer`, TimerMessage.encode(timer), { msgID: `timer:${timer.token}` });
    },
    async drained() {
      await waitUntil(
        async () => (await bus.jsm.streams.info(STREAMS.MATCH)).state.messages === 0,
        10_000,
        'MATCH drained',
      );
    },
    timers: async () =>
      (await readStream(bus, STREAMS.TIMERS, (b) => TimerMessage.decode(b))).filter(
        (x) => retentionInstanceId(x.value.token) === undefined,
      ),
    retentionTimers: async () =>
      (await readStream(bus, STREAMS.TIMERS, (b) => TimerMessage.decode(b))).filter(
        (x) => retentionInstanceId(x.value.token) !== undefined,
      ),
    deliveries: () => readStream(bus, STREAMS.DELIVER, (b) => DeliverJobMessage.decode(b)),
    // A journal message holds one decision's records: one entry per record, in order.
    journal: async () =>
      (await readStream(bus, STREAMS.JOURNAL, (b) => JournalMessage.decode(b))).flatMap((m) =>
        m.value.map((value) => ({ subject: m.subject, value })),
      ),
  };
}

let counter = 0;
export function track(
  userKey: string,
  name: string,
  properties: Record<string, unknown>,
  receivedAt = Date.now(),
): NormalizedEvent {
  counter++;
  return {
    type: 'track',
    name,
    userKey,
    userId: userKey,
    messageId: `m-${counter}-${name}`,
    timestamp: receivedAt,
    receivedAt,
    properties,
    traits: {},
  };
}

export const CART = `
id: cart
name: Cart abandonment
trigger:
  event: checkout_started
entry: { mode: every_time, uniqueBy: properties.cart_id }
exit:
  - event: account_deleted
steps:
  - id: wait-for-purchase
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 1s, next: nudge }
  - { id: nudge, type: send, to: [hook], event: Cart Abandoned, next: end }
  - { id: thanks, type: send, to: [hook], event: Thanks, next: end }
  - { id: end, type: exit }
`;
