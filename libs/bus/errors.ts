// Stable codes of the bus (listed with fixes in docs/errors.md). Branch on `code`.

export const BusCodes = {
  UNREACHABLE: 'CAIRN_E_BUS_UNREACHABLE',
  JETSTREAM_DISABLED: 'CAIRN_E_BUS_JETSTREAM_DISABLED',
  SERVER_TOO_OLD: 'CAIRN_E_BUS_SERVER_TOO_OLD',
  DECODE: 'CAIRN_E_BUS_DECODE',
  CAS_EXHAUSTED: 'CAIRN_E_BUS_CAS_EXHAUSTED',
  PROVISION_FAILED: 'CAIRN_E_BUS_PROVISION_FAILED',
  CREDENTIALS_UNREADABLE: 'CAIRN_E_BUS_CREDENTIALS_UNREADABLE',
  UNAUTHORIZED: 'CAIRN_E_BUS_UNAUTHORIZED',
  VALUE_INVALID: 'CAIRN_E_BUS_VALUE_INVALID',
} as const;

export type BusCode = (typeof BusCodes)[keyof typeof BusCodes];

export class BusError extends Error {
  override readonly name = 'BusError';
  readonly code: BusCode;

  constructor(code: BusCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** The JetStream API codes a compare-and-set conflict comes back with (10164/10163 from 2.11). */
export const CAS_CONFLICT_CODES: ReadonlySet<number> = new Set([10071, 10164, 10163]);
