// deploy/grafana: the dashboard's structure (what Grafana needs to load and lay it out), its
// provisioning files, and that every query (dashboard and rules) names only metrics Cairn's code
// defines or the rules record. Whether each query returns data against a real scrape is the
// end-to-end test's job (test/e2e/prometheus.test.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';
import { parse } from 'yaml';

import {
  baseMetricName,
  definedMetricNames,
  loadDashboard,
  loadRules,
  metricNames,
  ROOT,
} from '../../helpers/observability.js';

void t.test('metricNames reads the names a query selects', (t) => {
  t.same(
    metricNames(
      'histogram_quantile(0.99, sum by (le, destination) (rate(cairn_x_bucket{le=~"300(\\\\.0)?", a="b c"}[$__rate_interval])))',
    ),
    ['cairn_x_bucket'],
  );
  t.same(metricNames('a:b:c / 0.01 and on (p) max without (i) (up offset 5m) > bool 1'), ['a:b:c', 'up']);
  t.same(metricNames('sum(rate(foo[5m])) / ignoring (x) group_left (y) bar'), ['bar', 'foo']);
  t.end();
});

void t.test('the dashboard is well formed', async (t) => {
  const d = await loadDashboard();
  t.equal(d.uid, 'cairn-overview');
  t.ok(Number.isInteger(d.schemaVersion) && d.schemaVersion >= 36 && d.schemaVersion <= 41, 'schemaVersion');
  const ds = d.templating?.list.find((v) => v.name === 'datasource');
  t.same({ type: ds?.type, query: ds?.query }, { type: 'datasource', query: 'prometheus' });
  const ids = d.panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const cells = new Map<string, string>();
  const overlaps: string[] = [];
  for (const p of d.panels) {
    const { x, y, w, h } = p.gridPos;
    t.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${p.title}: gridPos inside 24 columns`);
    for (let i = x; i < x + w; i++)
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        if (other !== undefined) overlaps.push(`${p.title} / ${other} at ${i},${j}`);
        cells.set(`${i},${j}`, p.title);
      }
    if (p.type === 'row') continue;
    t.ok(['timeseries', 'stat'].includes(p.type), `${p.title}: a known panel type`);
    t.same(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${p.title}: datasource`);
    t.ok((p.targets ?? []).length > 0, `${p.title}: has targets`);
    const refIds = (p.targets ?? []).map((q) => q.refId);
    t.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds unique`);
    for (const q of p.targets ?? []) {
      t.ok(q.expr.trim().length > 0, `${p.title} ${q.refId}: has an expression`);
      t.same(q.datasource, p.datasource, `${p.title} ${q.refId}: the panel's datasource`);
    }
  }
  t.same(overlaps, [], 'no two panels overlap');
  const titles = d.panels.map((p) => p.title).join('\n');
  for (const want of [
    /latency/i,
    /error budget remaining/i,
    /burn rate/i,
    /events in, deliveries out/i,
    /entries/i,
    /transitions/i,
    /timer lateness/i,
    /DLQ/,
    /lag per partition/i,
    /circuit/i,
  ])
    t.match(titles, want, `a panel for ${want}`);
  const latency = d.panels.find((p) => /latency, event to destination/i.test(p.title));
  t.same(
    latency?.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value),
    [null, 300],
    'the latency panel draws the 300 s objective',
  );
  t.equal(latency?.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode, 'line');
});

void t.test('every query names only metrics Cairn defines or the rules record', async (t) => {
  const defined = await definedMetricNames();
  const rules = await loadRules();
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  const known = (name: string): boolean => recorded.has(name) || defined.has(baseMetricName(name));
  const queries: Array<[where: string, expr: string]> = [
    ...rules.map((r): [string, string] => [`rule ${r.record ?? r.alert}`, r.expr]),
    ...(await loadDashboard()).panels.flatMap((p) =>
      (p.targets ?? []).map((q): [string, string] => [`panel "${p.title}" ${q.refId}`, q.expr]),
    ),
  ];
  const unknown: string[] = [];
  for (const [where, expr] of queries) {
    const names = metricNames(expr);
    t.ok(names.length > 0, `${where} selects a metric`);
    for (const name of names) if (!known(name)) unknown.push(`${where}: ${name}`);
  }
  t.same(
    unknown,
    [],
    'metrics no code under libs/ or services/ defines (a typo, or a metric not added yet):\n' +
      unknown.join('\n'),
  );
});

void t.test('the provisioning files point Grafana at the dashboard and a Prometheus', async (t) => {
  const dir = join(ROOT, 'deploy/grafana/provisioning');
  const ds = parse(await readFile(join(dir, 'datasources/cairn-prometheus.yaml'), 'utf8')) as {
    apiVersion: number;
    datasources: Array<{ type: string; url: string }>;
  };
  t.equal(ds.apiVersion, 1);
  t.equal(ds.datasources[0]?.type, 'prometheus');
  t.match(ds.datasources[0]?.url, /^https?:\/\//);
  const prov = parse(await readFile(join(dir, 'dashboards/cairn.yaml'), 'utf8')) as {
    apiVersion: number;
    providers: Array<{ type: string; options: { path: string } }>;
  };
  t.equal(prov.apiVersion, 1);
  t.equal(prov.providers[0]?.type, 'file');
  t.ok(prov.providers[0]?.options.path, 'a dashboards path');
});
