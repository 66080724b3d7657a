// The sender as a real process (services/sender/main.ts), SIGKILLed three times while it
// delivers 300 jobs (some answered 503 first, so retries are in flight too): every delivery id
// reaches the sink with the same webhook-id and body on every copy, and a delivery is sent
// again only when the kill cut it off in flight (the sink had it, the sender had not recorded
// `sent` yet): at least once, never a second send of a delivery the sender had recorded.
import { spawn, type ChildProcess } from 'node:child_process';

import t from 'tap';

import {
  partitionOf,
  BUCKETS,
  DeliverJobMessage,
  publishWithId,
  putDestination,
  subjects,
} from '../../../libs/bus/index.js';
import { waitUntil, withBus } from '../../helpers/bus.js';
import { startHttpSink } from '../../helpers/http-sink.js';
import { REPO } from '../cli/helpers.js';
import { job } from './helpers.js';

/** services/sender/main.ts from source, through tap's TypeScript loader (transpile only). */
function spawnSender(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', 'services/sender/main.ts'], {
    cwd: REPO,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

void t.test('no delivery id accepted twice across SIGKILLs of the sender', async (t) => {
  const tb = await withBus(t, { CAIRN_PARTITIONS: '2' });
  const accepted = new Map<string, Array<{ at: number; body: string }>>();
  const sink = await startHttpSink((req, i) => {
    const id = String(req.headers['idempotency-key']);
    if (i % 7 === 3) return 503;
    accepted.set(id, [...(accepted.get(id) ?? []), { at: req.at, body: req.text }]);
    return { status: 200, delayMs: i % 5 };
  });
  t.teardown(() => sink.close());
  await putDestination(tb.bus, {
    v: 1,
    id: 'crm',
    type: 'webhook',
    url: sink.url,
    circuit: { failureRate: 1, minRequests: 1_000 },
  });
  const jobs = Array.from({ length: 300 }, (_, i) => job({ userKey: `u-${i % 40}` }));
  for (const j of jobs) {
    await publishWithId(
      tb.bus.js,
      subjects.deliver(partitionOf(j.userKey, tb.config.partitions)),
      DeliverJobMessage.encode(j),
      j.deliveryId,
    );
  }

  const env = {
    NATS_URL: tb.server.url,
    CAIRN_PARTITIONS: '2',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    CAIRN_ACK_WAIT: '2s',
    // A restarted sender takes over its killed predecessor's partition leases once they ran out.
    CAIRN_LEASE_TTL: '3s',
    CAIRN_METRICS_PORT: '0',
    CAIRN_LOG_LEVEL: 'error',
  };
  let child = spawnSender(env);
  t.teardown(() => kill(child));
  const killedAt: number[] = [];
  for (let k = 0; k < 3; k++) {
    const before = sink.requests.length;
    // Kill it in the middle of the work: once it has sent some more requests.
    await sink.waitFor(before + 40, 30_000);
    killedAt.push(Date.now());
    await kill(child);
    t.comment(`SIGKILL ${k + 1} after ${sink.requests.length} requests`);
    child = spawnSender(env);
  }
  const sent = await tb.bus.kv(BUCKETS.sent);
  await waitUntil(
    async () => (await Promise.all(jobs.map((j) => sent.get(j.deliveryId)))).every((e) => e !== null),
    60_000,
    'every job delivered',
  );
  await kill(child);
  t.equal(accepted.size, jobs.length, 'every delivery id accepted');
  const twice = [...accepted].filter(([, copies]) => copies.length > 1);
  t.comment(`${sink.requests.length} requests for ${jobs.length} jobs; ${twice.length} accepted twice`);
  const inFlightAtKill = (at: number): boolean => killedAt.some((k) => at >= k - 1_000 && at <= k + 200);
  for (const [id, copies] of twice) {
    t.ok(
      copies.every((c) => c.body === copies[0]!.body),
      `${id}: every copy is the same delivery`,
    );
    t.ok(
      copies.slice(0, -1).every((c) => inFlightAtKill(c.at)),
      `${id}: each earlier copy was in flight when the sender was killed (${copies.map((c) => c.at - killedAt[0]!).join(', ')} ms)`,
    );
  }
});
