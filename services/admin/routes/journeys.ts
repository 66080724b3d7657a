// Journeys: list, show (head and versions, a version's document, source and graph), validate a
// draft (the CLI's codes, each problem at its line), publish, archive.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import {
  JOURNEY_NO_SHADOW,
  JOURNEY_NOT_ACTIVE,
  JOURNEY_NOT_FOUND,
  JourneyRegistryError,
  listJourneys,
  promoteShadow,
  publishShadowVersion,
  readJourneyVersion,
  type Bus,
  type JourneyHead,
} from '../../../libs/bus/index.js';
import { DAY_MS } from '../../../libs/insight/index.js';
import {
  JourneyCodes,
  journeyGraph,
  parseJourney,
  type JourneyDocument,
  type ValidationIssue,
} from '../../../libs/journey/index.js';
import {
  archiveAndEnd,
  jobOf,
  loadJourneyVersion,
  missingDestinations,
  missingDestinationsError,
  publishJourney,
  readDlqRecords,
} from '../../cli/operations.js';
import type { RouteContext } from '../app.js';
import { AdminError } from '../errors.js';
import { positionOf } from '../source-position.js';
import { bodyOf, positiveInt, type Params } from './common.js';

/** A validation problem as the console shows it: at a path, a line and a column. */
export interface Problem {
  severity: 'error' | 'warning';
  code: string;
  path: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
}

const problemOf = (i: ValidationIssue): Problem => ({
  severity: i.severity,
  code: i.code,
  path: i.path,
  ...(i.line !== undefined && { line: i.line, column: i.column ?? 1 }),
  message: i.message,
  ...(i.hint !== undefined && { hint: i.hint }),
});

const SOURCE_EXAMPLE = '{"source":"id: welcome\\nname: Welcome\\n..."}';
const ValidateBody = z.object({ source: z.string() });
const PublishBody = z.object({
  source: z.string(),
  shadow: z.boolean().optional(),
  previous: z.enum(['drain', 'archive']).optional(),
  allowMissingDestinations: z.boolean().optional(),
});

function statusOf(head: JourneyHead): 'active' | 'archived' {
  return head.active === null ? 'archived' : 'active';
}

/** The registry's refusals of a shadow publish or a promote, with the CLI's messages and hints. */
async function registryErrors<T>(id: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof JourneyRegistryError)) throw err;
    switch (err.code) {
      case JOURNEY_NOT_FOUND:
        throw new AdminError(
          404,
          err.code,
          `journey ${id} does not exist`,
          'Publish it first: a shadow runs beside an active version',
        );
      case JOURNEY_NOT_ACTIVE:
        throw new AdminError(
          409,
          err.code,
          `journey ${id} has no active version for a shadow to run beside`,
          'Publish a version first',
        );
      case JOURNEY_NO_SHADOW:
        throw new AdminError(
          409,
          err.code,
          `journey ${id} has no shadow version`,
          'Publish one with POST /api/v1/journeys and "shadow": true',
        );
      default:
        throw err;
    }
  }
}

/** The newest DLQ records of stage deliver that the list counts per journey. */
export const LIST_DLQ_SCAN = 1_000;

/** Dead-lettered deliveries per journey id, among the newest LIST_DLQ_SCAN records of dlq.deliver. */
async function deadLettersByJourney(bus: Bus): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of await readDlqRecords(bus, 'deliver', LIST_DLQ_SCAN)) {
    const journeyId = s.record.deliveryId !== undefined ? jobOf(s.record)?.stepKey.journeyId : undefined;
    if (journeyId !== undefined) out.set(journeyId, (out.get(journeyId) ?? 0) + 1);
  }
  return out;
}

/**
 * The active version's last 24 hours from its stats: instances entered, waiting at a step now,
 * and deliveries sent (the sends' `sent` summed over its steps). Undefined when unreadable.
 */
async function dayCounts(ctx: RouteContext, journeyId: string, version: number) {
  const stats = await ctx.stats(ctx.bus, { journeyId, version, sinceMs: DAY_MS }).catch(() => undefined);
  if (!stats) return undefined;
  let current = 0;
  let deliveries = 0;
  for (const step of stats.steps) {
    current += step.current;
    for (const send of Object.values(step.sends ?? {})) deliveries += send.sent;
  }
  return { enteredToday: stats.entered, current, deliveries };
}

/** The draft, validated as `cairn journey validate` does; a 400 with every problem otherwise. */
export function validDraft(source: string): { doc: JourneyDocument; warnings: Problem[] } {
  const result = parseJourney(source);
  if (result.ok) return { doc: result.journey, warnings: result.warnings.map(problemOf) };
  const problems = [...result.errors, ...result.warnings].map(problemOf);
  throw badRequestWithCode(
    JourneyCodes.INVALID,
    `the journey has ${result.errors.length} error(s)`,
    'Fix each problem (its line and column are given), then publish again',
    problems,
  );
}

function badRequestWithCode(code: string, message: string, hint: string, problems: unknown[]): AdminError {
  return new AdminError(400, code, message, hint, problems);
}

export function journeyRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const { bus, config } = ctx;

  api.get('/journeys', { config: { role: 'read' } }, async () => {
    const unreadable: string[] = [];
    const heads = await listJourneys(bus, (err) => unreadable.push(err.message));
    const failures = await deadLettersByJourney(bus);
    const journeys = await Promise.all(
      heads.map(async (head) => {
        const shown = await readJourneyVersion(bus, head.id, head.active ?? head.latest).catch(
          () => undefined,
        );
        const counts = head.active === null ? undefined : await dayCounts(ctx, head.id, head.active);
        return {
          id: head.id,
          ...(shown?.document.name !== undefined && { name: shown.document.name }),
          status: statusOf(head),
          active: head.active,
          latest: head.latest,
          versions: head.versions,
          ...(counts && { ...counts, failures: failures.get(head.id) ?? 0 }),
        };
      }),
    );
    return { journeys, unreadable };
  });

  api.get('/journeys/:id', { config: { role: 'read' } }, async (req) => {
    const { id } = req.params as Params;
    const { head } = await loadJourneyVersion(bus, id!);
    const versions = await Promise.all(
      Object.entries(head.versions).map(async ([n, status]) => {
        const stored = await readJourneyVersion(bus, head.id, Number(n)).catch(() => undefined);
        return {
          version: Number(n),
          status,
          ...(stored && { publishedAt: new Date(stored.publishedAt).toISOString(), hash: stored.hash }),
        };
      }),
    );
    versions.sort((a, b) => b.version - a.version);
    return { id: head.id, status: statusOf(head), active: head.active, latest: head.latest, versions };
  });

  api.get('/journeys/:id/versions/:version', { config: { role: 'read' } }, async (req) => {
    const { id, version } = req.params as Params;
    const wanted = positiveInt(version, 'version', '/api/v1/journeys/welcome/versions/2');
    const { head, stored } = await loadJourneyVersion(bus, id!, wanted);
    return {
      id: head.id,
      version: wanted,
      status: head.versions[String(wanted)] ?? 'unknown',
      publishedAt: new Date(stored.publishedAt).toISOString(),
      hash: stored.hash,
      document: stored.document,
      // Versions stored before sources were kept have none.
      source: stored.source ?? null,
      // The console draws the same graph (libs/journey/graph.ts) and puts the stats on its edges.
      graph: journeyGraph(stored.document),
    };
  });

  api.post('/journeys/validate', { config: { role: 'read' } }, (req, reply) => {
    const { source } = bodyOf(ValidateBody, req.body, SOURCE_EXAMPLE);
    const result = parseJourney(source);
    return reply.send(
      result.ok
        ? { ok: true, id: result.journey.id, problems: result.warnings.map(problemOf) }
        : { ok: false, problems: [...result.errors, ...result.warnings].map(problemOf) },
    );
  });

  api.post('/journeys', { config: { role: 'write' } }, async (req, reply) => {
    const body = bodyOf(PublishBody, req.body, SOURCE_EXAMPLE);
    const { doc, warnings } = validDraft(body.source);
    const { missing, known } = await missingDestinations(bus, doc);
    const missingProblems: Problem[] = missing.map((m) => ({
      severity: body.allowMissingDestinations ? 'warning' : 'error',
      code: 'CAIRN_E_JOURNEY_MISSING_DESTINATION',
      path: m.path,
      ...positionOf(body.source, m.path),
      message: `destination '${m.id}' does not exist (destinations: ${known.join(', ') || 'none yet'})`,
      ...(m.guess !== undefined && { hint: `did you mean '${m.guess}'?` }),
    }));
    if (missing.length > 0 && !body.allowMissingDestinations) {
      const err = missingDestinationsError(`journey ${doc.id}`, missing.length);
      throw badRequestWithCode(
        err.code,
        err.what,
        err.fix.replace('--allow-missing-destinations', '"allowMissingDestinations": true'),
        missingProblems,
      );
    }
    if (body.shadow) {
      if (body.previous !== undefined)
        throw new AdminError(
          400,
          'CAIRN_E_ADMIN_BAD_REQUEST',
          'shadow and previous do not go together: a shadow leaves the active version as it is',
          'Drop "previous" (or "shadow")',
        );
      const shadow = await registryErrors(doc.id, () =>
        publishShadowVersion(bus, doc, { source: body.source }),
      );
      ctx.auditTarget(req, { journeyId: shadow.id, version: shadow.version, shadow: true });
      void reply.code(201);
      return {
        id: shadow.id,
        version: shadow.version,
        shadow: true,
        ...(shadow.replaced !== undefined && { replaced: shadow.replaced }),
        problems: [...warnings, ...missingProblems],
      };
    }
    const { published, ended } = await publishJourney(bus, config, doc, {
      source: body.source,
      ...(body.previous !== undefined && { previous: body.previous }),
    });
    ctx.auditTarget(req, {
      journeyId: published.id,
      version: published.version,
      unchanged: published.unchanged === true,
    });
    void reply.code(published.unchanged ? 200 : 201);
    return {
      id: published.id,
      version: published.version,
      unchanged: published.unchanged === true,
      ...(published.previous && { previous: published.previous }),
      ...(ended !== undefined && { ended }),
      problems: [...warnings, ...missingProblems],
    };
  });

  api.post('/journeys/:id/promote', { config: { role: 'write' } }, async (req) => {
    const { id } = req.params as Params;
    const promoted = await registryErrors(id!, () => promoteShadow(bus, id!));
    ctx.auditTarget(req, { journeyId: id, version: promoted.version });
    return {
      id,
      version: promoted.version,
      ...(promoted.previous !== undefined && { previous: promoted.previous }),
    };
  });

  api.post('/journeys/:id/archive', { config: { role: 'write' } }, async (req) => {
    const { id } = req.params as Params;
    const { version, ended } = await archiveAndEnd(bus, config, id!);
    ctx.auditTarget(req, { journeyId: id, version });
    return { id, version, ended };
  });
}
