// Object-first structured logs (STYLE.md rule 12): `log.info({ journeyId }, 'instance entered')`.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log record (one level deep and in headers). */
export const REDACT_PATHS = [
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'password',
  '*.password',
  'writeKey',
  '*.writeKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["webhook-signature"]',
  '*.headers["webhook-signature"]',
];

export interface LoggerOptions {
  level?: string;
  /** The service or component name, logged as `name`. */
  name: string;
  /** Where records go; stdout when omitted (tests pass a stream). */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Error objects under `err` get message, stack and our `code`.
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination,
  );
}
