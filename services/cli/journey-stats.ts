// `cairn journey stats <id> [--version <n>] [--since <duration>] [--shadow] [--json]`: the counts
// of a journey version (libs/insight) as a tree of its steps, or as JSON.
import { readJourneyVersion, type Bus } from '../../libs/bus/index.js';
import {
  InsightError,
  readJourneyStats,
  renderStatsComparison,
  renderStatsTree,
  MAX_WINDOW_MS,
  type JourneyStats,
  type StatsQuery,
} from '../../libs/insight/index.js';
import { tryParseDuration } from '../../libs/journey/index.js';
import { CliError } from './io.js';

export const STATS_HELP = `Usage: cairn journey stats <id> [--version <n>] [--since <duration>] [--shadow] [--json]

The counts of a journey version, kept up to date from the journal by the matcher: entries and
refusals, instances active now, completions and exits by reason; per step, times entered (and
the share of entries), instances waiting in it now, each branch taken (and its share of the
step), sends per destination. Drawn as a tree of the steps.

Options:
  --version <n>       that version (default: the active one, else the latest)
  --since <duration>  count the last hours only (e.g. 1h, 24h, 7d; whole hours, at most 7d);
                      "waiting now" and "active" are always now
  --shadow            the active version and its shadow version side by side
  --json              JourneyStats as JSON ({ active, shadow } with --shadow)
  --nats-url <url>    NATS to use (default NATS_URL, then nats://127.0.0.1:4222)

Example:
  cairn journey stats cart-abandonment --since 24h`;

export interface StatsFlags {
  /** The window in ms (parseSince); absent: all time. */
  sinceMs?: number;
  shadow?: boolean;
  json?: boolean;
}

export function parseSince(raw: string): number {
  const ms = tryParseDuration(raw);
  if (ms === undefined || ms <= 0 || ms > MAX_WINDOW_MS) {
    throw new CliError(
      `--since must be a duration from 1s to 7d, not ${JSON.stringify(raw)}`,
      'Use e.g. --since 1h, --since 24h or --since 7d; leave it out for all time',
    );
  }
  return ms;
}

async function read(bus: Bus, query: StatsQuery): Promise<JourneyStats> {
  try {
    return await readJourneyStats(bus, query);
  } catch (err) {
    if (err instanceof InsightError) throw new CliError(err.message, err.hint);
    throw err;
  }
}

/** The command's lines: `version` and the window parsed already (undefined: the default). */
export async function journeyStatsLines(
  bus: Bus,
  id: string,
  version: number | undefined,
  flags: StatsFlags,
): Promise<string[]> {
  const { sinceMs } = flags;
  const base: StatsQuery = { journeyId: id, ...(sinceMs !== undefined && { sinceMs }) };
  if (flags.shadow) {
    const active = await read(bus, base);
    const shadow = await read(bus, { ...base, shadow: true, ...(version !== undefined && { version }) });
    if (flags.json) return [JSON.stringify({ active, shadow }, null, 2)];
    return [renderStatsComparison(active, shadow)];
  }
  const stats = await read(bus, { ...base, ...(version !== undefined && { version }) });
  if (flags.json) return [JSON.stringify(stats, null, 2)];
  const stored = await readJourneyVersion(bus, id, stats.version ?? 0);
  return [renderStatsTree(stats, stored?.document)];
}
