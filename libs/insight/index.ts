// libs/insight: what a journey did, counted from JOURNAL (docs/journeys.md "Stats, replay and
// shadows"): the pure fold of journal records into counts, the projection that keeps them in KV
// `cairn_stats`, the reader, and the terminal rendering.
export type * from './types.js';
export {
  addCounters,
  countersKey,
  countRecord,
  countVersionRecord,
  emptyCounters,
  emptyVersionCounters,
  foldJournal,
  DAILY_KEPT,
  DAY_MS,
  HOUR_MS,
  HOURLY_KEPT,
  MAX_WINDOW_MS,
  pruneWindows,
  windowCounters,
  type Counters,
  type StepCounters,
  type VersionCounters,
} from './counters.js';
export { journeyStatsOf, type StatsOptions } from './stats.js';
export {
  percent,
  renderStatsComparison,
  renderStatsTree,
  windowText,
  type ComparisonOptions,
} from './render.js';
export { InsightCodes, InsightError, type InsightCode } from './errors.js';
export { readJourneyStats } from './read.js';
export {
  PROJECTION_BATCH,
  readCheckpoint,
  startJournalProjection,
  type JournalProjection,
  type ProjectionOptions,
} from './projection.js';
export { CHECKPOINT_KEY, StatsValueSchema, statsValueCodec, type StatsValue } from './store.js';
