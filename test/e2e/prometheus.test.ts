// End to end with a real Prometheus (Debian's package): it scrapes a running `cairn up` every
// second and evaluates deploy/prometheus/cairn-rules.yaml every second, during a short load
// through real journeys to a real local webhook (one healthy destination, one that answers 503
// until its circuit opens, one that refuses with 400 so that its deliveries go to the DLQ).
// Then every recording rule and every query of deploy/grafana/dashboards/cairn.json must return
// data: at least one series with a finite value over the run (a query without data names the
// metrics the scrape lacks); every rule evaluates without error; the circuit and DLQ alerts go
// pending and firing on what the run did, and no burn-rate alert does.
//
// With CAIRN_DASHBOARD_PNG=<file> it also draws the dashboard from this run's data
// (scripts/render-dashboard.mjs, needs chromium): that is how docs/operations-dashboard.png is made.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import t from 'tap';

import { connectBus, parseDestinationFile, putDestination } from '../../libs/bus/index.js';
import { loadConfig } from '../../libs/config/index.js';
import { silentLogger, waitUntil } from '../helpers/bus.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { withNats } from '../helpers/nats-server.js';
import {
  DASHBOARD_FILE,
  loadDashboard,
  loadRules,
  metricNames,
  promqlOf,
  ROOT,
  RULES_FILE,
} from '../helpers/observability.js';
import { startPrometheus, type PromSeries } from '../helpers/prometheus.js';
import { journey, publishEvents, publishJourneys, startUp, type ProducerEvent } from '../helpers/pipeline.js';

const CART = `
id: cart
name: Cart abandonment
trigger: { event: checkout_started }
entry: { mode: every_time, uniqueBy: properties.cart_id }
steps:
  - id: wait
    type: hold_until
    branches:
      - { id: purchased, event: purchase_completed, next: thanks }
    timeout: { after: 1s, next: nudge }
  - { id: nudge, type: send, to: [shop-crm], event: Cart Abandoned, next: end }
  - { id: thanks, type: send, to: [shop-crm], event: Thanks, next: end }
  - { id: end, type: exit }
`;

const FORWARD = `
id: forward
name: Forward forms
trigger: { event: form_submitted }
entry: { mode: every_time, uniqueBy: properties.form_id }
steps:
  - { id: crm, type: send, to: [legacy-crm, archive-api], event: Form Submitted }
`;

const LOAD_MS = Number(process.env['CAIRN_PROM_LOAD_MS'] ?? 20_000);
const TICK_MS = 200;
/** `$__rate_interval` at a 1 s scrape: wide enough for a few samples. */
const RATE_WINDOW = '5s';

void t.test('every recording rule and dashboard query returns data from a real scrape', async (t) => {
  t.setTimeout(180_000);
  const nats = await withNats(t);
  const config = loadConfig({
    NATS_URL: nats.url,
    CAIRN_METRICS_PORT: '0',
    CAIRN_PARTITIONS: '4',
    CAIRN_TIMER_BUCKET: '1s',
    CAIRN_SHUTDOWN_GRACE: '2s',
    CAIRN_EGRESS_ALLOW_LOOPBACK: 'true',
    // The polled gauges (consumer lag, DLQ depth, timers pending) at the scrape's pace.
    CAIRN_METRICS_INTERVAL: '1s',
  });
  const life = await startUp(t, config);
  await waitUntil(() => life.isReady(), 20_000, 'cairn up ready');

  const prometheus = await startPrometheus(t, {
    targets: [`127.0.0.1:${life.metricsPort}`],
    ruleFiles: [RULES_FILE],
  });

  // shop-crm answers in 20-150 ms; legacy-crm is down (503: retried, its circuit opens);
  // archive-api refuses every delivery (400: dead-lettered at once).
  const sink = await startHttpSink((req) =>
    req.path.startsWith('/down')
      ? 503
      : req.path.startsWith('/reject')
        ? 400
        : { status: 200, delayMs: 20 + Math.floor(Math.random() * 130) },
  );
  t.teardown(() => sink.close());
  const admin = await connectBus({ url: nats.url, name: 'test', logger: silentLogger });
  t.teardown(() => admin.close());
  await putDestination(
    admin,
    parseDestinationFile({ id: 'shop-crm', type: 'webhook', url: `${sink.url}/ok` }),
  );
  await putDestination(
    admin,
    parseDestinationFile({
      id: 'legacy-crm',
      type: 'webhook',
      url: `${sink.url}/down`,
      retryBudget: '3s',
      circuit: { minRequests: 5, failureRate: 0.5, cooldown: '5s' },
    }),
  );
  await putDestination(
    admin,
    parseDestinationFile({ id: 'archive-api', type: 'webhook', url: `${sink.url}/reject` }),
  );
  await publishJourneys(admin, journey(CART), journey(FORWARD));

  // The load: a new cart every tick, half of them bought a tick later, a form every 5th tick.
  const start = Date.now() / 1000;
  let tick = 0;
  while (Date.now() - start * 1000 < LOAD_MS) {
    const events: ProducerEvent[] = [];
    for (let k = 0; k < 4; k++) {
      const n = tick * 4 + k;
      const userId = `u${n % 40}`;
      events.push([
        'track',
        { userId, messageId: `c${n}`, event: 'checkout_started', properties: { cart_id: `cart-${n}` } },
      ]);
      const prev = n - 4;
      if (prev >= 0 && prev % 2 === 0)
        events.push([
          'track',
          {
            userId: `u${prev % 40}`,
            messageId: `p${prev}`,
            event: 'purchase_completed',
            properties: { cart_id: `cart-${prev}` },
          },
        ]);
    }
    if (tick % 5 === 0)
      events.push([
        'track',
        {
          userId: `u${tick % 40}`,
          messageId: `f${tick}`,
          event: 'form_submitted',
          properties: { form_id: `form-${tick}` },
        },
      ]);
    await publishEvents(admin, events);
    tick++;
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  t.ok(
    sink.requests.filter((r) => r.path.startsWith('/ok')).length > 50,
    'the healthy destination got deliveries',
  );

  // A few more scrapes and rule evaluations after the load.
  const scrapedUpTo = Date.now() / 1000 + 4;
  await waitUntil(
    async () => {
      const r = await prometheus.api<{ result: PromSeries[] }>('query', {
        query: 'timestamp(up{job="cairn"})',
      });
      return Number(r.result[0]?.value?.[1] ?? 0) >= scrapedUpTo;
    },
    20_000,
    'Prometheus scraping after the load',
  );
  const end = Date.now() / 1000;

  const names = new Set(await prometheus.api<string[]>('label/__name__/values'));
  const rangeOf = (query: string) =>
    prometheus.api<{ result: PromSeries[] }>('query_range', {
      query,
      start: String(start),
      end: String(end),
      step: '1',
    });
  const hasData = (series: PromSeries[]): boolean =>
    series.some((s) => (s.values ?? []).some(([, v]) => Number.isFinite(Number(v))));
  const explain = (expr: string): string => {
    const missing = metricNames(expr).filter((n) => !names.has(n));
    return missing.length > 0
      ? `missing from the scrape of cairn up (or not recorded): ${missing.join(', ')}`
      : 'every metric it names is scraped, but the query finds no finite value';
  };

  for (const rule of (await loadRules()).filter((r) => r.record)) {
    const ok = hasData((await rangeOf(rule.record!)).result);
    const what = `recording rule ${rule.record} has data`;
    t.ok(ok, ok ? what : `${what}; ${explain(rule.expr)}`);
  }
  for (const panel of (await loadDashboard()).panels) {
    for (const target of panel.targets ?? []) {
      const query = promqlOf(target.expr, RATE_WINDOW);
      const ok = hasData((await rangeOf(query)).result);
      const what = `panel "${panel.title}" ${target.refId} has data: ${target.expr}`;
      t.ok(ok, ok ? what : `${what}; ${explain(query)}`);
    }
  }

  // Every rule evaluates without error against the real series (label matching included).
  const groups = await prometheus.api<{
    groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }>;
  }>('rules');
  const rules = groups.groups.flatMap((g) => g.rules);
  t.equal(rules.length, (await loadRules()).length, 'Prometheus loaded every rule');
  for (const r of rules)
    t.equal(r.health, 'ok', `rule ${r.name} evaluates${r.lastError ? `: ${r.lastError}` : ''}`);

  // The alerts see the run: legacy-crm's circuit is open (pending: it needs 5 minutes to fire),
  // dlq.deliver grew; every delivery was fast, so no burn-rate alert.
  const alerts = async (): Promise<string[]> =>
    (await prometheus.api<{ result: PromSeries[] }>('query', { query: 'ALERTS' })).result.map((s) =>
      `${s.metric['alertname']} ${s.metric['alertstate']} ${s.metric['destination'] ?? s.metric['stage'] ?? ''}`.trim(),
    );
  const expected = ['CairnDestinationCircuitOpen pending legacy-crm', 'CairnDLQGrowing firing deliver'];
  await waitUntil(
    async () => {
      const now = await alerts();
      return expected.every((a) => now.includes(a));
    },
    15_000,
    `alerts ${expected.join(', ')}`,
  ).then(
    () => t.pass(`alerts: ${expected.join(', ')}`),
    async (err: Error) => t.fail(`${err.message}; now: ${(await alerts()).join(', ') || 'none'}`),
  );
  t.same(
    (await alerts()).filter((a) => a.startsWith('CairnDeliverySLO')),
    [],
    'no burn-rate alert: every delivery took well under 300 s',
  );

  const png = process.env['CAIRN_DASHBOARD_PNG'];
  if (png) {
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'scripts/render-dashboard.mjs'),
        '--prometheus',
        prometheus.url,
        '--dashboard',
        DASHBOARD_FILE,
        '--start',
        String(start),
        '--end',
        String(end),
        '--rate-window',
        RATE_WINDOW,
        '--out',
        png,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    t.equal(r.status, 0, `render-dashboard: ${r.stdout}${r.stderr}`);
  }
});
