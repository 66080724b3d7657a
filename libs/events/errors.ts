// Stable codes of event validation and normalization (listed with fixes in docs/errors.md).
// Normalization returns problems as values; EventError is for a caller that wants to throw one.

/** Every code libs/events can report. Never rename one: producers and dashboards branch on them. */
export const EventCodes = {
  NOT_JSON: 'CAIRN_E_EVENT_NOT_JSON',
  NOT_OBJECT: 'CAIRN_E_EVENT_NOT_OBJECT',
  TOO_LARGE: 'CAIRN_E_EVENT_TOO_LARGE',
  UNKNOWN_TYPE: 'CAIRN_E_EVENT_UNKNOWN_TYPE',
  TYPE_MISMATCH: 'CAIRN_E_EVENT_TYPE_MISMATCH',
  NO_IDENTITY: 'CAIRN_E_EVENT_NO_IDENTITY',
  TRACK_NO_EVENT: 'CAIRN_E_EVENT_TRACK_NO_EVENT',
  GROUP_NO_GROUP_ID: 'CAIRN_E_EVENT_GROUP_NO_GROUP_ID',
  ALIAS_NO_PREVIOUS_ID: 'CAIRN_E_EVENT_ALIAS_NO_PREVIOUS_ID',
  ALIAS_NO_USER_ID: 'CAIRN_E_EVENT_ALIAS_NO_USER_ID',
  BAD_TIMESTAMP: 'CAIRN_E_EVENT_BAD_TIMESTAMP',
  TIMESTAMP_OUT_OF_RANGE: 'CAIRN_E_EVENT_TIMESTAMP_OUT_OF_RANGE',
  FORBIDDEN_KEY: 'CAIRN_E_EVENT_FORBIDDEN_KEY',
  LONE_SURROGATE: 'CAIRN_E_EVENT_LONE_SURROGATE',
  MESSAGE_ID_TOO_LONG: 'CAIRN_E_EVENT_MESSAGE_ID_TOO_LONG',
  WRONG_TYPE: 'CAIRN_E_EVENT_WRONG_TYPE',
  TOO_DEEP: 'CAIRN_E_EVENT_TOO_DEEP',
  ID_TOO_LONG: 'CAIRN_E_EVENT_ID_TOO_LONG',
} as const;

export type EventCode = (typeof EventCodes)[keyof typeof EventCodes];

/** Where in a JSON text a syntax error is: 1-based line and column (in characters), 0-based byte offset. */
export interface JsonPosition {
  line: number;
  column: number;
  offset: number;
}

/** Why an event was refused, phrased for the producer who has to fix it. */
export interface EventProblem {
  code: EventCode;
  reason: string;
  /** The offending field, dotted (`timestamp`, `context.traits`), when one field is to blame. */
  field?: string;
  /** For CAIRN_E_EVENT_NOT_JSON: where the syntax error is. */
  at?: JsonPosition;
}

export class EventError extends Error {
  override readonly name = 'EventError';
  readonly code: EventCode;
  readonly problem: EventProblem;

  constructor(problem: EventProblem, options?: ErrorOptions) {
    super(`${problem.code}: ${problem.reason}`, options);
    this.code = problem.code;
    this.problem = problem;
  }
}
