// Scenario 1's denominator: a minimal hand-written pipeline doing the JetStream hops a
// forwarding journey needs, with Cairn's client settings (connectBus: noAsyncTraces; consume()
// with a callback, 128 messages pulled, 64 handled at once, explicit acks, file storage, R1):
//   publish event -> consume+ack -> KV read + CAS update -> publish job -> consume+ack -> HTTP POST.
// No validation, no journeys, no journal, no idempotency record: what is left is transport.
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import { Agent, request } from 'undici';

import { fnv1a32, type Bus } from '../libs/bus/index.js';
import type { RunningService } from '../libs/telemetry/index.js';

export const BASE_EVENTS = 'BASE_EVENTS';
export const BASE_EVENTS_SUBJECT = 'bevents.>';
const BASE_JOBS = 'BASE_JOBS';
const PARTITIONS = 16;
const CONCURRENCY = 64;
const PULL = 128;

/** Runs `fn` for each message with at most `limit` at once. */
function limited(limit: number, fn: (msg: JsMsg) => Promise<void>): (msg: JsMsg) => void {
  let running = 0;
  const queue: JsMsg[] = [];
  const next = (): void => {
    while (running < limit && queue.length > 0) {
      const msg = queue.shift()!;
      running++;
      void fn(msg)
        .catch(() => msg.nak(500))
        .finally(() => {
          running--;
          next();
        });
    }
  };
  return (msg) => {
    queue.push(msg);
    next();
  };
}

async function casCount(kv: KV, key: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const e = await kv.get(key);
    const n = e && e.operation === 'PUT' ? Number(new TextDecoder().decode(e.value)) + 1 : 1;
    const bytes = new TextEncoder().encode(String(n));
    try {
      if (e && e.operation === 'PUT') await kv.update(key, bytes, e.revision);
      else await kv.create(key, bytes);
      return;
    } catch {
      // A conflict: read again.
    }
  }
  throw new Error(`cas exhausted on ${key}`);
}

export async function startBaselinePipeline(bus: Bus, sinkUrl: string): Promise<RunningService> {
  const { jsm, js } = bus;
  await jsm.streams.add({ name: BASE_EVENTS, subjects: [BASE_EVENTS_SUBJECT], storage: StorageType.File });
  await jsm.streams.add({
    name: BASE_JOBS,
    subjects: ['bjobs.*'],
    storage: StorageType.File,
    retention: RetentionPolicy.Workqueue,
  });
  const kv = await new Kvm(js).create('base_state', { history: 1 });
  const dispatcher = new Agent({ connect: { timeout: 10_000 } });
  const consumerCfg = {
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1_000,
  };
  await jsm.consumers.add(BASE_EVENTS, { ...consumerCfg, durable_name: 'base-events' });
  await jsm.consumers.add(BASE_JOBS, { ...consumerCfg, durable_name: 'base-jobs' });

  const onEvent = limited(CONCURRENCY, async (msg) => {
    const event = JSON.parse(new TextDecoder().decode(msg.data)) as {
      userId: string;
      messageId: string;
      properties: Record<string, unknown>;
    };
    const key = Buffer.from(event.userId).toString('base64url');
    await casCount(kv, key);
    const p = fnv1a32(event.userId) % PARTITIONS;
    await js.publish(`bjobs.${p}`, JSON.stringify({ sent_at: event.properties['sent_at'] }), {
      msgID: event.messageId,
    });
    msg.ack();
  });
  const onJob = limited(CONCURRENCY, async (msg) => {
    const res = await request(sinkUrl, {
      method: 'POST',
      body: msg.data,
      headers: { 'content-type': 'application/json' },
      dispatcher,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`sink answered ${res.statusCode}`);
    msg.ack();
  });
  const events = await (
    await js.consumers.get(BASE_EVENTS, 'base-events')
  ).consume({
    max_messages: PULL,
    callback: onEvent,
  });
  const jobs = await (
    await js.consumers.get(BASE_JOBS, 'base-jobs')
  ).consume({ max_messages: PULL, callback: onJob });
  return {
    isReady: () => true,
    async stop() {
      await events.close().catch(() => undefined);
      await jobs.close().catch(() => undefined);
      await dispatcher.close();
    },
  };
}
