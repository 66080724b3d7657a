// Reading a request's parameters, query and body, with errors that say what and how to fix.
import type { z } from 'zod';

import { parseDurationMs } from '../../../libs/config/index.js';
import { badRequest } from '../errors.js';

/** A whole number >= 1 from a path or query parameter. */
export function positiveInt(raw: string | undefined, what: string, example: string): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw)))
    throw badRequest(
      `${what} must be a whole number >= 1, not ${JSON.stringify(raw ?? '')}`,
      `Use e.g. ${example}`,
    );
  return Number(raw);
}

/** A duration back from now (`24h`, `7d`) from a query parameter. */
export function durationMs(raw: string, what: string): number {
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms <= 0)
    throw badRequest(
      `${what} must be a duration such as 24h or 7d, not ${JSON.stringify(raw)}`,
      `Use e.g. ${what}=24h`,
    );
  return ms;
}

/** The body, checked against `schema`; a 400 naming each field at fault otherwise. */
export function bodyOf<T>(schema: z.ZodType<T>, body: unknown, example: string): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message,
  }));
  const first = problems[0]!;
  throw badRequest(
    `the body is invalid at ${first.path || 'the top'}: ${first.message}`,
    `Send e.g. ${example}`,
    problems,
  );
}

export type Params = Record<string, string>;
export type Query = Record<string, string | undefined>;
