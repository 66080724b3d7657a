// Coalesced socket writes (libs/bus/coalesce.ts) against a real nats-server: what is published
// across many microtasks of one event-loop turn goes out in one write, in order, and nothing is
// left unwritten.
import { connect } from '@nats-io/transport-node';
import t from 'tap';

import { coalesceWrites } from '../../../libs/bus/index.js';
import { withNats } from '../../helpers/nats-server.js';

/** Counts the writes of a connection's transport (the client's protocol handler's `transport`). */
function countWrites(nc: object): { writes: number } {
  const transport = (nc as { protocol: { transport: { send(frame: Uint8Array): unknown } } }).protocol
    .transport;
  const counter = { writes: 0 };
  const send = transport.send.bind(transport);
  transport.send = (frame) => {
    counter.writes++;
    return send(frame);
  };
  return counter;
}

/** Publishes `n` messages, each after an await: one microtask generation per message. */
async function publishAcrossMicrotasks(
  nc: { publish(s: string, d: string): void },
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    nc.publish('coalesce.test', `${i}`);
  }
}

void t.test('publishes of one turn go out in one write, in order', async (t) => {
  const server = await withNats(t);
  const nc = await connect({ servers: server.url });
  t.teardown(() => nc.close());
  const received: string[] = [];
  const sub = nc.subscribe('coalesce.test', {
    callback: (_err, msg) => {
      received.push(msg.string());
    },
  });
  await nc.flush();

  // The client as shipped: one write per microtask flush.
  const plain = countWrites(nc);
  await publishAcrossMicrotasks(nc, 100);
  await new Promise((r) => setImmediate(r));
  t.ok(plain.writes >= 50, `the client alone writes per microtask (${plain.writes} writes)`);

  t.equal(coalesceWrites(nc), true, 'this client allows it');
  const before = plain.writes;
  await publishAcrossMicrotasks(nc, 100);
  await new Promise((r) => setImmediate(r));
  t.equal(plain.writes - before, 1, 'one write for the whole turn');

  await nc.flush();
  const expected = [
    ...Array.from({ length: 100 }, (_, i) => `${i}`),
    ...Array.from({ length: 100 }, (_, i) => `${i}`),
  ];
  await new Promise((r) => setTimeout(r, 50));
  t.same(received, expected, 'every message arrives, in order');
  sub.unsubscribe();
});

void t.test('a buffer over the client threshold is written at once; requests still answer', async (t) => {
  const server = await withNats(t);
  const nc = await connect({ servers: server.url });
  t.teardown(() => nc.close());
  t.equal(coalesceWrites(nc), true);
  const counter = countWrites(nc);
  // 64 KB in one synchronous run: over the 32 KB threshold, so written before the turn ends.
  const big = 'x'.repeat(1024);
  for (let i = 0; i < 64; i++) nc.publish('coalesce.big', big);
  t.ok(counter.writes >= 1, 'written inline, past the threshold');

  nc.subscribe('coalesce.echo', {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  const reply = await nc.request('coalesce.echo', 'ping', { timeout: 2_000 });
  t.equal(reply.string(), 'ping');
});

void t.test('a handler that does not look like the client protocol handler is left alone', (t) => {
  t.equal(coalesceWrites({} as never), false);
  t.equal(coalesceWrites({ protocol: { sendCommand: 1 } } as never), false);
  t.end();
});
