// Destinations: list and show with secrets masked (signing secrets keep their last 4
// characters, header values and a URL's password are hidden), and a test send.
import type { FastifyInstance } from 'fastify';

import { getDestination, listDestinations, readCircuits, type Destination } from '../../../libs/bus/index.js';
import {
  destinationNotFound,
  maskDestination,
  testFixOf,
  testSend,
  verdictOf,
} from '../../cli/operations.js';
import type { RouteContext } from '../app.js';
import type { Params } from './common.js';

/** A URL with its password (and a user name standing alone, often a token) masked. */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '****';
    else if (url.username !== '') url.username = '****';
    return url.toString();
  } catch {
    return raw;
  }
}

/** The destination as the API shows it: secrets masked, times in ISO 8601. */
export function shownDestination(dest: Destination): Record<string, unknown> {
  const out = maskDestination(dest);
  if (dest.type === 'webhook') out['url'] = maskUrl(dest.url);
  if (dest.disabled) out['disabled'] = { ...dest.disabled, at: new Date(dest.disabled.at).toISOString() };
  return out;
}

export function destinationRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const { bus, config } = ctx;

  // `circuit`: the worst breaker state across the live senders (libs/bus circuit-state.ts).
  api.get('/destinations', { config: { role: 'read' } }, async () => {
    const dests = await listDestinations(bus);
    const circuits = await readCircuits(
      bus,
      dests.map((d) => d.id),
    );
    return {
      destinations: dests.map((d) => ({ ...shownDestination(d), circuit: circuits.get(d.id) ?? 'unknown' })),
    };
  });

  api.get('/destinations/:id', { config: { role: 'read' } }, async (req) => {
    const { id } = req.params as Params;
    const dest = await getDestination(bus, id!);
    if (!dest) throw destinationNotFound(id!);
    const circuits = await readCircuits(bus, [dest.id]);
    return { ...shownDestination(dest), circuit: circuits.get(dest.id) ?? 'unknown' };
  });

  api.post('/destinations/:id/test', { config: { role: 'write' } }, async (req) => {
    const { id } = req.params as Params;
    const dest = await getDestination(bus, id!);
    if (!dest) throw destinationNotFound(id!);
    const sent = await testSend(bus, config, dest);
    ctx.auditTarget(req, { destination: id, deliveryId: sent.deliveryId });
    if (sent.type === 'nats')
      return { ok: true, type: 'nats', subject: sent.subject, ms: sent.ms, deliveryId: sent.deliveryId };
    const { result } = sent;
    const base = {
      type: 'webhook',
      url: maskUrl(sent.url),
      ms: sent.ms,
      deliveryId: sent.deliveryId,
      signed: sent.secrets > 0,
    };
    if (result.kind === 'ok') return { ok: true, ...base, status: result.status };
    return {
      ok: false,
      ...base,
      ...(result.status !== undefined && { status: result.status }),
      detail: result.detail,
      verdict: verdictOf(result),
      hint: testFixOf(result),
    };
  });
}
