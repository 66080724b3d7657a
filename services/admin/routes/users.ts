// A user's journeys: instances (step, status, until when it waits), the timers pending, and the
// timeline of journal records (entries, refusals with their reason, steps, sends with what
// became of each delivery, exits), as `cairn inspect user` reads them.
import type { FastifyInstance } from 'fastify';

import { inspectUser } from '../../cli/operations.js';
import type { RouteContext } from '../app.js';
import { durationMs, type Params, type Query } from './common.js';

export function userRoutes(api: FastifyInstance, ctx: RouteContext): void {
  api.get('/users/:userId', { config: { role: 'read' } }, async (req) => {
    const { userId } = req.params as Params;
    const q = req.query as Query;
    const sinceMs = q['since'] === undefined ? 86_400_000 : durationMs(q['since'], 'since');
    const found = await inspectUser(ctx.bus, ctx.config, userId!, sinceMs);
    const iso = (at: number | undefined): string | undefined =>
      at === undefined ? undefined : new Date(at).toISOString();
    const instances = found.instances.map((i) => ({
      journeyId: i.journeyId,
      version: i.version,
      instanceKey: i.instanceKey,
      status: i.status,
      stepId: i.stepId,
      enteredAt: iso(i.enteredAt),
      ...(i.waitUntil !== undefined && { waitUntil: iso(i.waitUntil) }),
    }));
    // A waiting instance's timer: the step it waits in fires then (a hold's timeout, a delay).
    const timers = found.instances
      .filter((i) => i.status === 'active' && i.waitUntil !== undefined)
      .map((i) => ({
        journeyId: i.journeyId,
        version: i.version,
        instanceKey: i.instanceKey,
        stepId: i.stepId,
        fireAt: iso(i.waitUntil),
      }));
    const timeline = found.journal.map((r) => {
      const deliveryId = r.type === 'sent' ? r.detail?.['deliveryId'] : undefined;
      const delivery = typeof deliveryId === 'string' ? found.deliveries[deliveryId] : undefined;
      return { ...r, at: iso(r.at), ...(delivery && { delivery }) };
    });
    return {
      userKey: found.userKey,
      partition: found.partition,
      instances,
      timers,
      timeline,
      undecodable: found.undecodable,
    };
  });
}
