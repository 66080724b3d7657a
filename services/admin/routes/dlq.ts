// Dead letters: list (filtered by stage, destination, journey), show one with its attempt
// history and decoded message, retry (back to the subject it failed on), drop.
import type { FastifyInstance } from 'fastify';

import { DLQ_STAGES } from '../../../libs/bus/index.js';
import {
  decodePayload,
  dropRecord,
  jobOf,
  readDlqRecord,
  readDlqRecords,
  retryRecord,
  DLQ_NOT_FOUND,
  CodedError,
  type StoredDlqRecord,
} from '../../cli/operations.js';
import type { RouteContext } from '../app.js';
import { badRequest } from '../errors.js';
import { positiveInt, type Params, type Query } from './common.js';

const MAX_LIMIT = 1_000;

function summary(s: StoredDlqRecord): Record<string, unknown> {
  const r = s.record;
  const job = r.deliveryId !== undefined ? jobOf(r) : undefined;
  return {
    seq: s.seq,
    dlqSubject: s.subject,
    stage: r.stage,
    reason: r.reason,
    at: r.at,
    subject: r.subject,
    ...(r.destination !== undefined && { destination: r.destination }),
    ...(r.deliveryId !== undefined && { deliveryId: r.deliveryId }),
    ...(job && {
      journeyId: job.stepKey.journeyId,
      version: job.stepKey.version,
      stepId: job.stepKey.stepId,
      userKey: job.userKey,
    }),
    attempts: r.attempts?.length ?? 0,
  };
}

const seqOf = (params: Params): number => positiveInt(params['seq'], 'seq', '/api/v1/dlq/12');

export function dlqRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const { bus } = ctx;

  api.get('/dlq', { config: { role: 'read' } }, async (req) => {
    const q = req.query as Query;
    const limit = q['limit'] === undefined ? 100 : positiveInt(q['limit'], 'limit', '?limit=20');
    if (limit > MAX_LIMIT) throw badRequest(`limit must be at most ${MAX_LIMIT}`, 'Use e.g. ?limit=100');
    const stage = q['stage'];
    if (stage !== undefined && !(DLQ_STAGES as readonly string[]).includes(stage))
      throw badRequest(
        `stage must be one of ${DLQ_STAGES.join(', ')}, not ${JSON.stringify(stage)}`,
        '?stage=deliver',
      );
    const destination = q['destination'];
    const journey = q['journey'];
    const records = await readDlqRecords(bus, stage, limit, (s) => {
      if (destination !== undefined && s.record.destination !== destination) return false;
      if (journey !== undefined) return jobOf(s.record)?.stepKey.journeyId === journey;
      return true;
    });
    return { records: records.map(summary) };
  });

  api.get('/dlq/:seq', { config: { role: 'read' } }, async (req) => {
    const seq = seqOf(req.params as Params);
    const s = await readDlqRecord(bus, seq);
    if (!s)
      throw new CodedError(
        DLQ_NOT_FOUND,
        `no DLQ record ${seq}`,
        'List them with GET /api/v1/dlq',
        'not_found',
      );
    const { payload, ...fields } = s.record;
    const job = s.record.deliveryId !== undefined ? jobOf(s.record) : undefined;
    const message = job ? undefined : decodePayload(payload, s.record.truncated === true);
    return {
      ...summary(s),
      ...fields,
      seq,
      attempts: s.record.attempts ?? [],
      ...(job ? { job } : message !== undefined ? { message } : { payload }),
    };
  });

  api.post('/dlq/:seq/retry', { config: { role: 'write' } }, async (req) => {
    const seq = seqOf(req.params as Params);
    ctx.auditTarget(req, { seq });
    const subject = await retryRecord(bus, seq);
    return { retried: true, seq, subject };
  });

  api.delete('/dlq/:seq', { config: { role: 'write' } }, async (req) => {
    const seq = seqOf(req.params as Params);
    ctx.auditTarget(req, { seq });
    await dropRecord(bus, seq);
    return { dropped: true, seq };
  });
}
