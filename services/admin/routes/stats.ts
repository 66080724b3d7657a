// A journey's counts per version and step (JourneyStats, libs/insight/types.ts), read through
// the stats source (stats-source.ts).
import type { FastifyInstance } from 'fastify';

import type { StatsQuery } from '../../../libs/insight/index.js';
import { loadJourneyVersion } from '../../cli/operations.js';
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
    await loadJourneyVersion(ctx.bus, id!, query.version); // 404 for an unknown journey or version
    return ctx.stats(ctx.bus, query);
  });
}
