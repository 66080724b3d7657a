// Bounds on the ids that become part of a NATS subject or a KV key. User ids are encoded
// (base64url) into KV keys (`profiles`, `instances`, `user_instances`), and a KV read puts its
// key into a request subject: an unbounded id makes a subject longer than the server's control
// line (4096 bytes), and the server closes the connection every service of the process shares.
// Refused at the edge (HTTP 400, NATS `dlq.ingest`), before anything is read or written.
import { EventCodes, type EventCode, type EventProblem } from './errors.js';
import { describeValue } from './plain.js';
import { MESSAGE_ID_MAX_LENGTH } from './spec.js';

/** userId, anonymousId, an alias's previousId and a group's groupId: at most 256 characters. */
export const ID_MAX_LENGTH = 256;

/** Each id with its limit, and the type it belongs to (the others ignore it). */
const LIMITS: ReadonlyArray<{ field: string; max: number; code: EventCode; only?: string }> = [
  { field: 'userId', max: ID_MAX_LENGTH, code: EventCodes.ID_TOO_LONG },
  { field: 'anonymousId', max: ID_MAX_LENGTH, code: EventCodes.ID_TOO_LONG },
  { field: 'previousId', max: ID_MAX_LENGTH, code: EventCodes.ID_TOO_LONG, only: 'alias' },
  { field: 'groupId', max: ID_MAX_LENGTH, code: EventCodes.ID_TOO_LONG, only: 'group' },
  { field: 'messageId', max: MESSAGE_ID_MAX_LENGTH, code: EventCodes.MESSAGE_ID_TOO_LONG },
];

/** The first id of an event of `type` over its limit (lengths in UTF-16 code units, as
 * JavaScript counts them). */
export function identifierProblem(raw: Record<string, unknown>, type: unknown): EventProblem | undefined {
  for (const { field, max, code, only } of LIMITS) {
    if (only !== undefined && type !== only) continue;
    const value = raw[field];
    if (typeof value === 'string' && value.length > max) {
      return {
        code,
        field,
        reason: `${field} must be at most ${max} characters (got ${value.length}: ${describeValue(value)})`,
      };
    }
  }
  return undefined;
}
