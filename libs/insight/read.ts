// readJourneyStats: one KV read of a version's counts (whatever its number of instances) and its
// document from the registry, made into JourneyStats. The admin API, the console and
// `cairn journey stats` call it.
import {
  BUCKETS,
  decodeValue,
  readJourneyHead,
  readJourneyVersion,
  type Bus,
  type JourneyHead,
  listKvKeys,
} from '../bus/index.js';
import { countersKey, MAX_WINDOW_MS } from './counters.js';
import { InsightCodes, InsightError } from './errors.js';
import { journeyStatsOf } from './stats.js';
import { statsValueCodec } from './store.js';
import type { JourneyStats, StatsQuery } from './types.js';

/** The highest version of a journey that has shadow counts (undefined: none). */
async function shadowVersionOf(bus: Bus, journeyId: string): Promise<number | undefined> {
  let best: number | undefined;
  for (const key of await listKvKeys(bus, BUCKETS.stats, `${journeyId}.*.shadow`)) {
    const n = Number(/^[^.]+\.v(\d+)\.shadow$/.exec(key)?.[1]);
    if (Number.isInteger(n) && (best === undefined || n > best)) best = n;
  }
  return best;
}

async function versionOf(bus: Bus, head: JourneyHead, query: StatsQuery): Promise<number> {
  if (query.version !== undefined) {
    if (head.versions[String(query.version)] === undefined) {
      throw new InsightError(
        InsightCodes.NOT_FOUND,
        `journey ${head.id} has no version ${query.version}`,
        `Its versions: ${Object.keys(head.versions).join(', ')}`,
      );
    }
    return query.version;
  }
  if (query.shadow) {
    const shadow = await shadowVersionOf(bus, head.id);
    if (shadow === undefined) {
      throw new InsightError(
        InsightCodes.NOT_FOUND,
        `journey ${head.id} has no shadow counts`,
        'Publish a shadow version with `cairn journey publish --shadow`, or name one with --version',
      );
    }
    return shadow;
  }
  return head.active ?? head.latest;
}

/**
 * The counts of a journey version (the active one unless `query.version`; the shadow's with
 * `query.shadow`) over all time, or over the hours (the days, beyond 47 hours) that overlap the
 * last `query.sinceMs`.
 */
export async function readJourneyStats(bus: Bus, query: StatsQuery, now = Date.now()): Promise<JourneyStats> {
  if (query.sinceMs !== undefined && !(query.sinceMs > 0 && query.sinceMs <= MAX_WINDOW_MS)) {
    throw new InsightError(
      InsightCodes.WINDOW,
      `a window of ${query.sinceMs} ms is not between 1 ms and 7 days`,
      'Ask for a window of up to 7 days (--since 7d), or leave it out for all time',
    );
  }
  const head = await readJourneyHead(bus, query.journeyId);
  if (!head) {
    throw new InsightError(
      InsightCodes.NOT_FOUND,
      `journey ${query.journeyId} does not exist`,
      'List the journeys with `cairn journey list`',
    );
  }
  const version = await versionOf(bus, head, query);
  const shadow = query.shadow === true;
  const stored = await readJourneyVersion(bus, head.id, version);
  if (!stored) {
    throw new InsightError(
      InsightCodes.NOT_FOUND,
      `journey ${head.id} has no version ${version} stored`,
      'Publish the journey again',
    );
  }
  const key = countersKey(head.id, version, shadow);
  const entry = await (await bus.store(BUCKETS.stats)).get(key);
  const counters =
    entry && entry.operation === 'PUT'
      ? decodeValue(statsValueCodec, BUCKETS.stats, key, entry.value)
      : undefined;
  return journeyStatsOf(counters, {
    journeyId: head.id,
    version,
    shadow,
    doc: stored.document,
    ...(query.sinceMs !== undefined && { since: now - query.sinceMs }),
    until: now,
  });
}
