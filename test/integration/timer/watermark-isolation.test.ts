// One user's retrying event holds back only its own partition's timers, and only while it can
// still be routed (DESIGN.md §5.5 and §5.9): until it is dead-lettered at the end of its delivery
// budget, or until it is gone from EVENTS while its redelivery was awaited.
import t from 'tap';

import { BUCKETS, partitionOf, STREAMS } from '../../../libs/bus/index.js';
import { startIngest } from '../../../services/ingest/index.js';
import { refuseWrites, silentLogger, waitUntil } from '../../helpers/bus.js';
import { withTimers, type TimerHarness } from './helpers.js';

/** Two users on different partitions (of 2). */
function twoUsers(): [{ user: string; p: number }, { user: string; p: number }] {
  const a = { user: 'stuck-0', p: partitionOf('stuck-0', 2) };
  for (let i = 1; ; i++) {
    const user = `other-${i}`;
    const p = partitionOf(user, 2);
    if (p !== a.p) return [a, { user, p }];
  }
}

async function failedOnce(h: TimerHarness): Promise<boolean> {
  const values = (await h.metrics.runnerMessages.get()).values;
  return values.some(
    (v) => v.labels['stage'] === 'ingest' && v.labels['outcome'] === 'error' && v.value >= 1,
  );
}

/** An identify for `user` while no profile can be written: ingest retries it every time. */
async function stuckIdentify(h: TimerHarness, user: string): Promise<number> {
  await refuseWrites(h.bus, BUCKETS.profiles);
  const ack = await h.bus.js.publish(
    'events.identify',
    new TextEncoder().encode(JSON.stringify({ userId: user, traits: { plan: 'pro' }, messageId: 'stuck' })),
  );
  return ack.seq;
}

async function startStack(t: Parameters<typeof withTimers>[0], env: Record<string, string>) {
  const h = await withTimers(t, { CAIRN_ACK_WAIT: '1s', ...env });
  await h.start();
  const ingest = await startIngest({
    config: h.config,
    bus: h.bus,
    logger: silentLogger,
    metrics: h.metrics,
  });
  t.teardown(() => ingest.stop(1_000));
  return h;
}

const firedAt = (h: TimerHarness, token: string): number | undefined =>
  h.fired.find((f) => f.timer.token === token)?.firedAt;

void t.test('a retrying event does not hold back the timers of another partition', async (t) => {
  // 6 deliveries: 0.5 + 1 + 2 + 4 + 8 s of backoff before the DLQ.
  const h = await startStack(t, { CAIRN_MAX_DELIVER: '6' });
  const [stuck, other] = twoUsers();
  await stuckIdentify(h, stuck.user);
  await waitUntil(() => failedOnce(h), 10_000, 'the first failure');

  const at = Date.now() + 300;
  await h.publishTimer(other.p, at, 'other-partition');
  await h.publishTimer(stuck.p, at, 'same-partition');
  await waitUntil(() => firedAt(h, 'other-partition') !== undefined, 10_000, 'the other partition fires');
  const late = firedAt(h, 'other-partition')! - at;
  t.ok(late >= 0 && late < 1_500, `on time while the event retries (${late} ms late)`);
  const info = await h.bus.jsm.streams.info(STREAMS.DLQ);
  t.equal(info.state.messages, 0, 'the event is still retrying');
  t.equal(firedAt(h, 'same-partition'), undefined, 'its own partition waits for it (guarantee 5)');

  // At the end of its budget it is dead-lettered, and its partition goes on.
  await waitUntil(() => firedAt(h, 'same-partition') !== undefined, 30_000, 'own partition after the DLQ');
  const dlq = await h.bus.jsm.streams.info(STREAMS.DLQ);
  t.equal(dlq.state.messages, 1, 'released by the dead-lettering');
});

void t.test('a blocked event purged from EVENTS does not freeze the watermark', async (t) => {
  const h = await startStack(t, { CAIRN_MAX_DELIVER: '1000' });
  const [stuck] = twoUsers();
  const routed: string[] = [];
  const sub = h.bus.nc.subscribe(`match.${stuck.p}.event`, {
    callback: () => {
      routed.push('event');
    },
  });
  t.teardown(() => sub.unsubscribe());
  const seq = await stuckIdentify(h, stuck.user);
  await waitUntil(() => failedOnce(h), 10_000, 'the first failure');
  // Gone while its key waits for the redelivery.
  await h.bus.jsm.streams.deleteMessage(STREAMS.EVENTS, seq);

  const at = Date.now() + 300;
  await h.publishTimer(stuck.p, at, 'after-purge');
  await waitUntil(() => firedAt(h, 'after-purge') !== undefined, 20_000, 'the timer fires');
  t.pass(`fired ${firedAt(h, 'after-purge')! - at} ms after its instant`);

  // The user's key is not blocked for ever either.
  await h.bus.js.publish(
    'events.track',
    new TextEncoder().encode(JSON.stringify({ userId: stuck.user, event: 'Next', messageId: 'next' })),
  );
  await waitUntil(() => routed.length === 1, 20_000, "the user's next event");
  t.pass('the next event of that user is routed');
});
