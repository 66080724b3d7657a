// The admin HTTP API's own error codes (docs/errors.md, "Admin HTTP API"). Failures of the
// operations it shares with the CLI keep the CLI's codes (services/cli/operations.ts).
export const AdminCodes = {
  UNAUTHORIZED: 'CAIRN_E_ADMIN_UNAUTHORIZED',
  FORBIDDEN: 'CAIRN_E_ADMIN_FORBIDDEN',
  BAD_REQUEST: 'CAIRN_E_ADMIN_BAD_REQUEST',
  NOT_FOUND: 'CAIRN_E_ADMIN_NOT_FOUND',
  INTERNAL: 'CAIRN_E_ADMIN_INTERNAL',
} as const;
export type AdminCode = (typeof AdminCodes)[keyof typeof AdminCodes];

/** The body of every error answer: `{ error: { code, message, hint } }`. */
export interface ErrorBody {
  error: { code: string; message: string; hint: string; problems?: unknown[] };
}

/** A failure answered with `status` and an error body. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
    /** Validation problems, each with its path and position (a journey draft). */
    readonly problems?: unknown[],
  ) {
    super(message);
  }

  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        hint: this.hint,
        ...(this.problems !== undefined && { problems: this.problems }),
      },
    };
  }
}

export const badRequest = (message: string, hint: string, problems?: unknown[]): AdminError =>
  new AdminError(400, AdminCodes.BAD_REQUEST, message, hint, problems);
