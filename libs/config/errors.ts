// Stable codes of the configuration (listed with fixes in docs/errors.md).

export const ConfigCodes = {
  /** One or more environment variables are invalid; the message names each and its fix. */
  INVALID: 'CAIRN_E_CONFIG_INVALID',
} as const;

export type ConfigCode = (typeof ConfigCodes)[keyof typeof ConfigCodes];

export interface ConfigIssue {
  /** The environment variable at fault. */
  variable: string;
  message: string;
  hint: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigCode = ConfigCodes.INVALID;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.variable}: ${i.message}. Fix: ${i.hint}`);
    super(`${ConfigCodes.INVALID}: invalid configuration\n${lines.join('\n')}`);
    this.issues = issues;
  }
}
