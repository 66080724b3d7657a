// Partition leases (libs/bus lease.ts) against a real nats-server, each holder on its own
// connection: one holder at a time, an immediate handover on release, a takeover only after the
// lease has stood unchanged for its lifetime plus the margin, and a holder that cannot renew (or
// whose lease was written by another) stops holding before anyone may take it.
import t from 'tap';

import {
  BUCKETS,
  connectBus,
  leaseCodec,
  leaseKey,
  leaseMarginMs,
  PartitionLeases,
  type Bus,
  type LeaseEnd,
} from '../../../libs/bus/index.js';
import { refuseWrites, silentLogger, waitUntil, withBus } from '../../helpers/bus.js';

const TTL_MS = 1_500;

interface Teardownable {
  teardown(fn: () => unknown): void;
}
const STAGE = 'matcher';

interface Holder {
  leases: PartitionLeases;
  events: string[];
  takeovers: number;
  losses: string[];
}

async function connect(t: Teardownable, url: string): Promise<Bus> {
  const bus = await connectBus({ url, name: 'lease-test', logger: silentLogger });
  t.teardown(() => bus.close());
  return bus;
}

function holder(t: Teardownable, bus: Bus, partitions: number[], holderName?: string): Holder {
  const events: string[] = [];
  const losses: string[] = [];
  const h: Holder = {
    events,
    takeovers: 0,
    losses,
    leases: new PartitionLeases({
      bus,
      stage: STAGE,
      partitions,
      ttlMs: TTL_MS,
      log: silentLogger,
      ...(holderName !== undefined ? { holder: holderName } : {}),
      acquired: (p) => {
        events.push(`acquired ${p}`);
        return Promise.resolve();
      },
      lost: (p: number, why: LeaseEnd) => {
        events.push(`lost ${p} ${why}`);
        return Promise.resolve();
      },
      metrics: {
        partitionsOwned: { inc: () => undefined, dec: () => undefined },
        leaseTakeovers: { inc: () => void h.takeovers++ },
        leaseLosses: { inc: (l) => void losses.push(l.reason) },
      },
    }),
  };
  t.teardown(() => h.leases.stop());
  return h;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void t.test('one holder at a time; a graceful stop hands over at once', async (t) => {
  const { server } = await withBus(t);
  const a = holder(t, await connect(t, server.url), [0, 1]);
  const b = holder(t, await connect(t, server.url), [0, 1]);
  await a.leases.start();
  await b.leases.start();
  t.same(a.leases.held(), [0, 1]);
  t.same(b.leases.held(), []);
  // Well past a lifetime plus margin: the holder renews, so the other never takes over.
  await sleep(2 * TTL_MS + leaseMarginMs(TTL_MS));
  t.same(a.leases.held(), [0, 1], 'the holder kept both');
  t.same(b.leases.held(), [], 'the other took none while they were renewed');
  t.same(b.events, []);

  const stopped = Date.now();
  await a.leases.stop();
  t.same(a.events.sort(), ['acquired 0', 'acquired 1', 'lost 0 released', 'lost 1 released']);
  await waitUntil(() => b.leases.held().length === 2, 5_000, 'the other takes both');
  const handover = Date.now() - stopped;
  t.comment(`handover after release: ${handover} ms`);
  t.ok(handover < 1_000, `taken within a second of the release (${handover} ms)`);
  t.equal(b.takeovers, 0, 'a released lease is no takeover');
});

void t.test('a lease of a holder that stopped renewing is taken only after ttl + margin', async (t) => {
  const { bus, server } = await withBus(t);
  const kv = await bus.store(BUCKETS.leases);
  const written = Date.now();
  await kv.create(leaseKey(STAGE, 0), leaseCodec.encode({ v: 1, holder: 'gone-host/1', ttlMs: TTL_MS }));
  const b = holder(t, await connect(t, server.url), [0]);
  await b.leases.start();
  t.same(b.leases.held(), [], 'not taken at start');
  await waitUntil(() => b.leases.held().length === 1, 10_000, 'takeover');
  const waited = Date.now() - written;
  t.ok(waited >= TTL_MS + leaseMarginMs(TTL_MS), `taken after ${waited} ms`);
  t.equal(b.takeovers, 1, 'counted as a takeover');
  const entry = await kv.get(leaseKey(STAGE, 0));
  t.equal(leaseCodec.decode(entry!.value).holder, b.leases.holder);
});

void t.test('a holder whose lease another wrote stops holding at its next renewal', async (t) => {
  const { bus, server } = await withBus(t);
  const a = holder(t, await connect(t, server.url), [0]);
  await a.leases.start();
  t.ok(a.leases.holds(0));
  const kv = await bus.store(BUCKETS.leases);
  const entry = await kv.get(leaseKey(STAGE, 0));
  await kv.update(
    leaseKey(STAGE, 0),
    leaseCodec.encode({ v: 1, holder: 'intruder', ttlMs: TTL_MS }),
    entry!.revision,
  );
  await waitUntil(() => !a.leases.holds(0), 5_000, 'lease lost');
  await waitUntil(() => a.events.includes('lost 0 taken'), 5_000, 'lost callback');
  t.same(a.losses, ['taken']);
});

void t.test('a holder that cannot renew stops before anyone may take over', async (t) => {
  const { bus, server } = await withBus(t);
  const a = holder(t, await connect(t, server.url), [0]);
  await a.leases.start();
  t.ok(a.leases.holds(0));
  const restore = await refuseWrites(bus, BUCKETS.leases);
  const refused = Date.now();
  await waitUntil(() => a.events.includes('lost 0 expired'), 5_000, 'lease ran out');
  const after = Date.now() - refused;
  t.notOk(a.leases.holds(0));
  // Valid up to the last renewal's send time + ttl - margin: before ttl + margin has passed.
  t.ok(after < TTL_MS, `stopped ${after} ms after the last chance to renew`);
  t.same(a.losses, ['expired']);
  await restore();
  // Nobody else wrote it: the same process takes its own lease back.
  await waitUntil(() => a.leases.holds(0), 5_000, 'lease taken back');
  t.equal(a.takeovers, 0);
});
