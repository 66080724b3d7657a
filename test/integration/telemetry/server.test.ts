import t from 'tap';

import { createMetrics, startTelemetryServer } from '../../../libs/telemetry/index.js';

void t.test('/metrics, /healthz and /readyz', async (t) => {
  const metrics = createMetrics();
  let state: { ready: boolean; detail?: unknown } = { ready: false, detail: { bus: 'connecting' } };
  const server = await startTelemetryServer({ port: 0, registry: metrics.registry, readiness: () => state });
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;

  metrics.deliveryLatency.observe({ journey: 'cart', destination: 'crm' }, 42);
  metrics.runnerMessages.inc({ stage: 'matcher', outcome: 'ack' });

  const m = await fetch(`${base}/metrics`);
  t.equal(m.status, 200);
  const text = await m.text();
  t.match(text, /cairn_delivery_latency_seconds_bucket\{le="300",journey="cart",destination="crm"\} 1/);
  t.match(text, /cairn_runner_messages_total\{stage="matcher",outcome="ack"\} 1/);
  for (const name of [
    'cairn_events_ingested_total',
    'cairn_dlq_total',
    'cairn_kv_cas_conflicts_total',
    'cairn_timer_lateness_seconds',
    'cairn_timers_fired_total',
    'cairn_journal_total',
    'cairn_deliveries_total',
    'cairn_runner_handle_seconds',
  ]) {
    t.match(text, `# TYPE ${name.replace(/_total$/, '')}`);
  }

  t.equal((await fetch(`${base}/healthz`)).status, 200);
  const notReady = await fetch(`${base}/readyz`);
  t.equal(notReady.status, 503);
  t.same(await notReady.json(), { status: 'not ready', detail: { bus: 'connecting' } });
  state = { ready: true };
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  t.equal((await fetch(`${base}/nope`)).status, 404);
});

void t.test('a boolean readiness and a throwing readiness', async (t) => {
  const metrics = createMetrics({ defaultMetrics: false });
  let mode: 'yes' | 'throw' = 'yes';
  const server = await startTelemetryServer({
    port: 0,
    registry: metrics.registry,
    readiness: () => {
      if (mode === 'throw') throw new Error('boom');
      return true;
    },
  });
  t.teardown(() => server.close());
  t.equal((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status, 200);
  mode = 'throw';
  t.equal((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status, 503);
  await t.rejects(
    startTelemetryServer({
      port: server.port,
      host: '127.0.0.1',
      registry: metrics.registry,
      readiness: () => true,
    }),
    {
      code: 'CAIRN_E_TELEMETRY_LISTEN_FAILED',
    },
  );
});

void t.test('the logger redacts secrets and auth headers', async (t) => {
  const { createLogger } = await import('../../../libs/telemetry/index.js');
  const lines: string[] = [];
  const log = createLogger({ name: 'test', destination: { write: (s: string) => void lines.push(s) } });
  log.info(
    {
      destination: { secret: 's3cr3t', url: 'http://x' },
      rotated: { secrets: ['whsec_b2xk', 'whsec_bmV3'] },
      headers: { authorization: 'Bearer abc' },
      source: { writeKey: 'wk' },
    },
    'hello',
  );
  const line = lines.join('');
  t.notMatch(line, /s3cr3t|Bearer abc|"wk"|whsec_/);
  t.match(line, /\[redacted\]/);
  t.match(line, /http:\/\/x/);
});
