// Stable codes of the stats reader (listed with fixes in docs/errors.md). Branch on `code`.

export const InsightCodes = {
  /** No journey with that id, or not that version. */
  NOT_FOUND: 'CAIRN_E_STATS_NOT_FOUND',
  /** A window longer than the hourly counts go back, or not positive. */
  WINDOW: 'CAIRN_E_STATS_WINDOW',
} as const;

export type InsightCode = (typeof InsightCodes)[keyof typeof InsightCodes];

export class InsightError extends Error {
  override readonly name = 'InsightError';
  constructor(
    readonly code: InsightCode,
    message: string,
    /** What to do about it. */
    readonly hint: string,
  ) {
    super(`${code}: ${message}`);
  }
}
