// Stable codes of the telemetry lib (listed with fixes in docs/errors.md).

export const TelemetryCodes = {
  /** The /metrics /healthz /readyz server could not listen on its port. */
  LISTEN_FAILED: 'CAIRN_E_TELEMETRY_LISTEN_FAILED',
} as const;

export type TelemetryCode = (typeof TelemetryCodes)[keyof typeof TelemetryCodes];

export class TelemetryError extends Error {
  override readonly name = 'TelemetryError';
  readonly code: TelemetryCode;

  constructor(code: TelemetryCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}
