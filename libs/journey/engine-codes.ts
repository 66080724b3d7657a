// Stable codes of the engine's own results (previews, the simulator), apart from the language's
// validation codes in errors.ts. Listed in docs/errors.md; never rename one.
export const EngineCodes = {
  /** previewSend was asked for a step that is not a send step (nor the exit send). */
  NOT_A_SEND_STEP: 'CAIRN_E_SEND_NOT_A_SEND_STEP',
  /** The payload's serialized UTF-8 size is over `limits.maxPayloadBytes`. */
  PAYLOAD_TOO_LARGE: 'CAIRN_E_SEND_PAYLOAD_TOO_LARGE',
  /** simulate() was given two journeys with one id. */
  DUPLICATE_JOURNEY: 'CAIRN_E_SIMULATE_DUPLICATE_JOURNEY',
  /** A simulated event has neither userId nor anonymousId. */
  BAD_EVENT: 'CAIRN_E_SIMULATE_BAD_EVENT',
} as const;

export type EngineCode = (typeof EngineCodes)[keyof typeof EngineCodes];
