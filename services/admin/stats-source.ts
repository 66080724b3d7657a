// Where the stats route reads a journey's counts (JourneyStats, libs/insight/types.ts). The
// projection from JOURNAL (`readJourneyStats`) is not part of this build yet: until it is, the
// source answers 501 with CAIRN_E_STATS_UNAVAILABLE, and the route is there for the console.
import type { Bus } from '../../libs/bus/index.js';
import type { JourneyStats, StatsQuery } from '../../libs/insight/types.js';
import { AdminCodes, AdminError } from './errors.js';

export type StatsSource = (bus: Bus, query: StatsQuery) => Promise<JourneyStats>;

export const statsSource: StatsSource = () =>
  Promise.reject(
    new AdminError(
      501,
      AdminCodes.STATS_UNAVAILABLE,
      'journey stats are not available in this build',
      'Read the journal with `cairn inspect user <userId>`, or the metrics (docs/operations.md)',
    ),
  );
