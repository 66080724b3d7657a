// Turns the first zod issue of a Spec schema into a problem a producer can act on: which field,
// what is wrong with it, and the stable code to branch on.
import type { z } from 'zod';
import { EventCodes, type EventCode, type EventProblem } from './errors.js';
import { describeValue } from './plain.js';
import { TIMESTAMP_FIELDS } from './spec.js';

/** Fields a type requires, with the code reported when the field is missing or blank. */
const REQUIRED: Record<string, EventCode> = {
  event: EventCodes.TRACK_NO_EVENT,
  groupId: EventCodes.GROUP_NO_GROUP_ID,
  previousId: EventCodes.ALIAS_NO_PREVIOUS_ID,
};

const TIMESTAMPS: ReadonlySet<string> = new Set(TIMESTAMP_FIELDS);

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function codeFor(issue: z.core.$ZodIssue, key: string, value: unknown): EventCode {
  if (TIMESTAMPS.has(key)) {
    const outOfRange = issue.code === 'custom' && issue.params?.['outOfRange'] === true;
    return outOfRange ? EventCodes.TIMESTAMP_OUT_OF_RANGE : EventCodes.BAD_TIMESTAMP;
  }
  const required = REQUIRED[key];
  if (required !== undefined && isBlank(value)) return required;
  if (key === 'messageId' && issue.code === 'too_big') return EventCodes.MESSAGE_ID_TOO_LONG;
  return EventCodes.WRONG_TYPE;
}

export function problemFromIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): EventProblem {
  const field = issue.path.map(String).join('.');
  const key = String(issue.path[0]);
  const value = raw[key];
  const code = codeFor(issue, key, value);
  // A missing field has nothing to show; a present one is quoted so the producer can find it.
  const got = field === key && value !== undefined ? ` (got ${describeValue(value)})` : '';
  return { code, field, reason: `${field} ${issue.message}${got}` };
}
