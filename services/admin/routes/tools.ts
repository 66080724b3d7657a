// The draft editor's tools, offline like the CLI's: a send step's payload for a sample event
// (`cairn journey preview`) and a run of the draft over ndjson events on a virtual clock
// (`cairn simulate`). Both read only; their inputs are bounded.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { compile, makeEvent, previewSend, simulate, type Timeline } from '../../../libs/journey/index.js';
import { eventSpecOfObject, previewHint } from '../../cli/journey.js';
import { CliError } from '../../cli/operations.js';
import { parseEvents } from '../../cli/simulate.js';
import type { RouteContext } from '../app.js';
import { AdminError } from '../errors.js';
import { bodyOf } from './common.js';
import { validDraft } from './journeys.js';

/** The longest draft source taken (characters). */
export const MAX_SOURCE_CHARS = 256 * 1024;
/** The longest ndjson events text taken (characters), and the most events in it. */
export const MAX_EVENTS_CHARS = 1024 * 1024;
export const MAX_SIMULATED_EVENTS = 5_000;

const Profile = z.object({
  traits: z.record(z.string(), z.unknown()).optional(),
  audiences: z.array(z.string()).optional(),
});
const PreviewBody = z.object({
  source: z.string().max(MAX_SOURCE_CHARS),
  stepId: z.string().min(1),
  event: z.record(z.string(), z.unknown()),
  profile: Profile.optional(),
});
const SimulateBody = z.object({
  source: z.string().max(MAX_SOURCE_CHARS),
  events: z.string().max(MAX_EVENTS_CHARS),
  profiles: z.record(z.string(), Profile).optional(),
});
const PREVIEW_EXAMPLE =
  '{"source":"id: welcome\\n...","stepId":"nudge","event":{"event":"checkout_started","userId":"u1"}}';
const SIMULATE_EXAMPLE =
  '{"source":"id: welcome\\n...","events":"{\\"at\\":\\"0s\\",\\"name\\":\\"signed_up\\",\\"userId\\":\\"u1\\"}\\n"}';

const profileOf = (p: z.infer<typeof Profile>) => ({ traits: p.traits ?? {}, audiences: p.audiences ?? [] });

/** The deliveries and journal of a simulation, as the console lists them. */
function simulationOf(timeline: Timeline) {
  return {
    deliveries: timeline.sends.map((s) => ({
      at: s.at,
      journeyId: s.stepKey.journeyId,
      stepId: s.stepKey.stepId,
      destination: s.destination,
      deliveryId: s.deliveryId,
      payload: s.payload,
    })),
    journal: timeline.journal,
    refusals: timeline.refusals.filter((r) => !timeline.journal.includes(r)),
  };
}

export function toolRoutes(api: FastifyInstance, _ctx: RouteContext): void {
  api.post('/preview', { config: { role: 'read' } }, (req) => {
    const body = bodyOf(PreviewBody, req.body, PREVIEW_EXAMPLE);
    const journey = compile(validDraft(body.source).doc, { version: 1 });
    const now = Date.now();
    const entry = makeEvent(eventSpecOfObject(body.event, now, 'event'));
    const result = previewSend(journey, body.stepId, {
      entry,
      now,
      ...(body.profile !== undefined && { profile: profileOf(body.profile) }),
    });
    if ('error' in result) {
      throw new AdminError(
        400,
        result.error.code,
        result.error.message,
        previewHint(journey, result.error.code),
      );
    }
    return {
      journeyId: journey.id,
      stepId: body.stepId,
      payload: result.payload,
      bytes: result.bytes,
      maxPayloadBytes: journey.limits.maxPayloadBytes,
    };
  });

  api.post('/simulate', { config: { role: 'read' } }, (req) => {
    const body = bodyOf(SimulateBody, req.body, SIMULATE_EXAMPLE);
    const journey = compile(validDraft(body.source).doc, { version: 1 });
    const events = parseEvents('events', body.events);
    if (events.length > MAX_SIMULATED_EVENTS) {
      throw new CliError(
        `events holds ${events.length} events; the limit is ${MAX_SIMULATED_EVENTS}`,
        'Simulate fewer events at a time, or run `cairn simulate` on the file',
      );
    }
    const profiles: Record<string, { traits: Record<string, unknown>; audiences: string[] }> = {};
    for (const [k, p] of Object.entries(body.profiles ?? {})) profiles[k] = profileOf(p);
    let timeline: Timeline;
    try {
      timeline = simulate([journey], events, { profiles });
    } catch (err) {
      throw new CliError(`the simulation failed: ${(err as Error).message}`, 'Check the events');
    }
    return simulationOf(timeline);
  });
}
