// docs/operations.md lists every metric Cairn exports (name, type, labels): `cairn up` runs here
// against a real nats-server, its /metrics is scraped, and the metrics its registry holds are
// compared with the table both ways.
import { readFile } from 'node:fs/promises';

import t from 'tap';

import { loadConfig } from '../../../libs/config/index.js';
import { withNats } from '../../helpers/nats-server.js';
import { startUp } from '../../helpers/pipeline.js';

interface Row {
  type: string;
  labels: string[];
}

async function documented(): Promise<Map<string, Row>> {
  const doc = await readFile(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics'));
  const rows = new Map<string, Row>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`(cairn_[a-z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined) continue;
    const labels = [...(cells[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((l) => l[1]!);
    rows.set(name, { type: cells[2] ?? '', labels });
  }
  return rows;
}

void t.test('docs/operations.md lists every metric cairn up exports, with its type and labels', async (t) => {
  const server = await withNats(t);
  const config = loadConfig({ NATS_URL: server.url, CAIRN_PARTITIONS: '2', CAIRN_METRICS_PORT: '0' });
  const life = await startUp(t, config);
  const rows = await documented();
  t.ok(rows.size > 30, `the table has rows (${rows.size})`);

  // What /metrics shows.
  const text = await (await fetch(`http://127.0.0.1:${life.metricsPort}/metrics`)).text();
  const scraped = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (cairn_[a-z_]+) ([a-z]+)$/gm)) scraped.set(m[1]!, m[2]!);
  t.same([...scraped.keys()].sort(), [...rows.keys()].sort(), 'the same names on /metrics and in the table');
  for (const [name, type] of scraped) t.equal(rows.get(name)?.type, type, `${name} type`);

  // What the registry holds: the label names too.
  const registered = life.metrics.registry
    .getMetricsAsArray()
    .map((m) => m as unknown as { name: string; labelNames: string[] })
    .filter((m) => m.name.startsWith('cairn_'));
  t.same(registered.map((m) => m.name).sort(), [...rows.keys()].sort(), 'the same names in the registry');
  for (const m of registered) t.same(rows.get(m.name)?.labels, m.labelNames, `${m.name} labels`);
});
