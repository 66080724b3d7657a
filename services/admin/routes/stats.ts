// A journey's counts per version and step (JourneyStats, libs/insight/types.ts), read through
// the stats source (stats-source.ts): readJourneyStats, as `cairn journey stats`.
import type { FastifyInstance } from 'fastify';

import type { StatsQuery } from '../../../libs/insight/index.js';
import type { RouteContext } from '../app.js';
import { badRequest } from '../errors.js';
import { durationMs, positiveInt, type Params, type Query } from './common.js';

export function statsRoutes(api: FastifyInstance, ctx: RouteContext): void {
  api.get('/journeys/:id/stats', { config: { role: 'read' } }, async (req) => {
    const { id } = req.params as Params;
    const q = req.query as Query;
    const query: StatsQuery = { journeyId: id! };
    if (q['version'] !== undefined) query.version = positiveInt(q['version'], 'version', '?version=2');
    if (q['since'] !== undefined && q['since'] !== 'all') query.sinceMs = durationMs(q['since'], 'since');
    if (q['shadow'] !== undefined) {
      if (q['shadow'] !== 'true' && q['shadow'] !== 'false')
        throw badRequest(
          `shadow must be true or false, not ${JSON.stringify(q['shadow'])}`,
          'Use ?shadow=true',
        );
      query.shadow = q['shadow'] === 'true';
    }
    // An unknown journey or version: 404 CAIRN_E_STATS_NOT_FOUND; a window over 7 days: 400
    // CAIRN_E_STATS_WINDOW (InsightError, answered in app.ts).
    return ctx.stats(ctx.bus, query);
  });
}
