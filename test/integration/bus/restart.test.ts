// Handlers are async by contract even when a test handler never awaits.
/* eslint-disable @typescript-eslint/require-await */
import t from 'tap';

import { ack, startRunner, STREAMS } from '../../../libs/bus/index.js';
import { silentLogger, waitUntil, withBus } from '../../helpers/bus.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

void t.test('a stored message survives a server restart and the runner resumes', async (t) => {
  const tb = await withBus(t);
  await tb.bus.js.publish('match.0.event', bytes('before'));
  await tb.server.restart();

  const handled: string[] = [];
  const runner = startRunner({
    bus: tb.bus,
    stream: STREAMS.MATCH,
    stage: 'matcher',
    subjects: ['match.0.*'],
    keyOf: () => 'k',
    handler: async (m) => {
      handled.push(new TextDecoder().decode(m.data));
      return ack();
    },
    maxDeliver: 3,
    ackWaitMs: 5_000,
    concurrency: 4,
    dlqSubject: 'dlq.matcher',
    logger: silentLogger,
  });
  t.teardown(() => runner.stop(1_000));
  await runner.ready;
  await waitUntil(() => handled.includes('before'), 15_000, 'the message stored before the restart');

  // The same runner keeps consuming across a second restart.
  await tb.server.restart();
  await waitUntil(
    async () => {
      try {
        await tb.bus.js.publish('match.0.event', bytes('after'), { msgID: 'after-1', timeout: 1_000 });
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    'publish after reconnect',
  );
  await waitUntil(() => handled.includes('after'), 20_000, 'the message published after the restart');
  t.same(handled, ['before', 'after']);
});
