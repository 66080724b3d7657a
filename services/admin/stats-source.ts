// Where the stats route reads a journey's counts (JourneyStats, libs/insight/types.ts): the
// projection of JOURNAL kept in KV `cairn_stats` (libs/insight readJourneyStats).
import type { Bus } from '../../libs/bus/index.js';
import { readJourneyStats, type JourneyStats, type StatsQuery } from '../../libs/insight/index.js';

export type StatsSource = (bus: Bus, query: StatsQuery) => Promise<JourneyStats>;

export const statsSource: StatsSource = (bus, query) => readJourneyStats(bus, query);
