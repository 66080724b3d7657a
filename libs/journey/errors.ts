// Stable codes of the journey language (listed with fixes in docs/errors.md) and the error a
// caller throws when it wants an exception rather than a result.
import type { ValidationIssue } from './types.js';

/** Every code validation, parsing and duration parsing can emit. Never rename one. */
export const JourneyCodes = {
  /** The code of a thrown JourneyError that wraps validation issues. */
  INVALID: 'CAIRN_E_JOURNEY_INVALID',
  SYNTAX: 'CAIRN_E_JOURNEY_SYNTAX',
  MISSING_FIELD: 'CAIRN_E_JOURNEY_MISSING_FIELD',
  WRONG_TYPE: 'CAIRN_E_JOURNEY_WRONG_TYPE',
  UNKNOWN_KEY: 'CAIRN_E_JOURNEY_UNKNOWN_KEY',
  BAD_ID: 'CAIRN_E_JOURNEY_BAD_ID',
  BAD_VALUE: 'CAIRN_E_JOURNEY_BAD_VALUE',
  EMPTY: 'CAIRN_E_JOURNEY_EMPTY',
  BAD_PATH: 'CAIRN_E_JOURNEY_BAD_PATH',
  UNKNOWN_STEP_TYPE: 'CAIRN_E_JOURNEY_UNKNOWN_STEP_TYPE',
  BAD_DURATION: 'CAIRN_E_JOURNEY_BAD_DURATION',
  DURATION_OUT_OF_RANGE: 'CAIRN_E_JOURNEY_DURATION_OUT_OF_RANGE',
  BAD_CONDITION: 'CAIRN_E_JOURNEY_BAD_CONDITION',
  DELAY_AFTER_OR_UNTIL: 'CAIRN_E_JOURNEY_DELAY_AFTER_OR_UNTIL',
  EVENT_DECLARATION: 'CAIRN_E_JOURNEY_EVENT_DECLARATION',
  UNKNOWN_STEP: 'CAIRN_E_JOURNEY_UNKNOWN_STEP',
  CYCLE: 'CAIRN_E_JOURNEY_CYCLE',
  DUPLICATE_STEP_ID: 'CAIRN_E_JOURNEY_DUPLICATE_STEP_ID',
  DUPLICATE_BRANCH_ID: 'CAIRN_E_JOURNEY_DUPLICATE_BRANCH_ID',
  UNREACHABLE_STEP: 'CAIRN_E_JOURNEY_UNREACHABLE_STEP',
  HOLD_BRANCHES_OVERLAP: 'CAIRN_E_JOURNEY_HOLD_BRANCHES_OVERLAP',
  RESTART_WITH_NEXT: 'CAIRN_E_JOURNEY_RESTART_WITH_NEXT',
  WEIGHTS_SUM: 'CAIRN_E_JOURNEY_WEIGHTS_SUM',
  WEIGHT_NOT_POSITIVE: 'CAIRN_E_JOURNEY_WEIGHT_NOT_POSITIVE',
  TOO_MANY_STEPS: 'CAIRN_E_JOURNEY_TOO_MANY_STEPS',
  NAME_TOO_LONG: 'CAIRN_E_JOURNEY_NAME_TOO_LONG',
  TOO_MANY_BRANCHES: 'CAIRN_E_JOURNEY_TOO_MANY_BRANCHES',
  TOO_MANY_EXIT_RULES: 'CAIRN_E_JOURNEY_TOO_MANY_EXIT_RULES',
  DESTINATION_COUNT: 'CAIRN_E_JOURNEY_DESTINATION_COUNT',
  TOO_MANY_PAYLOAD_MAPPINGS: 'CAIRN_E_JOURNEY_TOO_MANY_PAYLOAD_MAPPINGS',
  UNIQUE_BY_TOO_LONG: 'CAIRN_E_JOURNEY_UNIQUE_BY_TOO_LONG',
  SAME_KEY_IN_ONCE: 'CAIRN_E_JOURNEY_SAME_KEY_IN_ONCE',
  NOT_A_CONTEXT_PATH: 'CAIRN_E_JOURNEY_NOT_A_CONTEXT_PATH',
  EXIT_SEND_WITHOUT_RULES: 'CAIRN_E_JOURNEY_EXIT_SEND_WITHOUT_RULES',
  UNIQUE_BY_NOT_CARRIED: 'CAIRN_E_JOURNEY_UNIQUE_BY_NOT_CARRIED',
  LIMITS_INVALID: 'CAIRN_E_JOURNEY_LIMITS_INVALID',
  // Warnings: the journey publishes, but a reader should look.
  UNIQUE_BY_UNVERIFIED: 'CAIRN_W_JOURNEY_UNIQUE_BY_UNVERIFIED',
  UNKNOWN_CONTEXT_EVENT: 'CAIRN_W_JOURNEY_UNKNOWN_CONTEXT_EVENT',
} as const;

export type JourneyCode = (typeof JourneyCodes)[keyof typeof JourneyCodes];

/** Thrown by callers who prefer exceptions; branch on `code`, read `issues` for the details. */
export class JourneyError extends Error {
  override readonly name = 'JourneyError';
  readonly code: JourneyCode;
  readonly issues: ValidationIssue[];

  constructor(message: string, issues: ValidationIssue[] = [], code: JourneyCode = JourneyCodes.INVALID) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}

/** One line per issue: `error CAIRN_E_... at steps[1].next: message (hint)`. For CLIs and logs. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path === '' ? 'document' : i.path;
      const pos = i.line === undefined ? '' : ` (line ${i.line}, column ${i.column ?? 1})`;
      return `${i.severity} ${i.code} at ${where}${pos}: ${i.message}${i.hint ? `; hint: ${i.hint}` : ''}`;
    })
    .join('\n');
}
