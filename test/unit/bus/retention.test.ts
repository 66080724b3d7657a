// DESIGN.md §5.10, storage bounded by retention: every stream and bucket Cairn provisions either
// expires by age or is on the list of those bounded otherwise (with how), and
// docs/configuration.md states each one's retention.
import { readFile } from 'node:fs/promises';

import t from 'tap';

import {
  BUCKETS,
  desiredBuckets,
  desiredStreams,
  DLQ_MAX_AGE_MS,
  JOURNAL_MAX_AGE_MS,
  STREAMS,
} from '../../../libs/bus/index.js';
import { loadConfig } from '../../../libs/config/index.js';

const config = loadConfig({});
const DAY_NS = 86_400 * 1e9;

/** Not bounded by a max age, and why their size is bounded all the same. */
const BOUNDED_OTHERWISE: Record<string, string> = {
  [STREAMS.MATCH]: 'work queue: a message goes when acked',
  [STREAMS.SHADOW]: 'work queue: a message goes when acked (or dead-lettered)',
  [STREAMS.TIMERS]: 'the timer service purges a bucket once it fired',
  [`KV_${BUCKETS.instances}`]: "the matcher's retention (CAIRN_INSTANCE_RETENTION)",
  [`KV_${BUCKETS.journeys}`]: 'one entry per journey version',
  [`KV_${BUCKETS.profiles}`]: 'one entry per user',
  [`KV_${BUCKETS.userInstances}`]: 'one entry per user',
  [`KV_${BUCKETS.destinations}`]: 'one entry per destination',
  [`KV_${BUCKETS.state}`]: 'a fixed few entries',
  [`KV_${BUCKETS.leases}`]: 'one entry per stage and partition',
  [`KV_${BUCKETS.stats}`]: 'one entry per journey version, its hourly and daily counts pruned (48 h, 8 d)',
};

void t.test('every stream and bucket is bounded', (t) => {
  const all = [
    ...desiredStreams(config).map((s) => ({ name: s.name, maxAgeNs: Number(s.max_age ?? 0) })),
    ...desiredBuckets(config).map((b) => ({
      name: `KV_${b.name}`,
      maxAgeNs: b.ttlMs * 1e6,
    })),
  ];
  for (const { name, maxAgeNs } of all) {
    t.ok(
      maxAgeNs > 0 || BOUNDED_OTHERWISE[name] !== undefined,
      `${name}: max age or ${BOUNDED_OTHERWISE[name]}`,
    );
  }
  const ages = Object.fromEntries(all.map((x) => [x.name, x.maxAgeNs / DAY_NS]));
  t.same(
    [ages[STREAMS.JOURNAL], ages[STREAMS.DLQ], ages[STREAMS.DELIVER], ages[`KV_${BUCKETS.sent}`]],
    [
      JOURNAL_MAX_AGE_MS / 86_400_000,
      DLQ_MAX_AGE_MS / 86_400_000,
      7,
      config.idempotencyWindowMs / 86_400_000,
    ],
  );
  t.equal(ages[`KV_${BUCKETS.ingestDedupe}`], 1, 'ingest dedupe: 24 h');
  t.end();
});

void t.test('docs/configuration.md states the retention of each', async (t) => {
  const doc = await readFile(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| ([^|]+) \| (?:stream|work queue|KV) \|[^|]*\| ([^|]+) \|$/gm)];
  const retentionOf = (name: string): string | undefined =>
    rows.find((m) => m[1]!.split(',').some((n) => n.trim().replace(/`/g, '') === name))?.[2];
  for (const s of desiredStreams(config)) t.ok(retentionOf(s.name), `${s.name} has a row`);
  for (const b of desiredBuckets(config)) t.ok(retentionOf(b.name), `${b.name} has a row`);
  t.match(retentionOf(STREAMS.JOURNAL), /30 d/);
  t.match(retentionOf(STREAMS.DLQ), /30 d/);
  t.match(retentionOf(BUCKETS.sent), /CAIRN_IDEMPOTENCY_WINDOW/);
  t.match(retentionOf(BUCKETS.instances), /CAIRN_INSTANCE_RETENTION/);
});
