// The admin API client: the bearer token (asked once, kept in sessionStorage), JSON in and out,
// and the API's error shape turned into an ApiError the pages can show.
import type { JourneyStats } from '../../libs/insight/types.js';
import type { JourneyGraph } from '../../libs/journey/graph.js';

const TOKEN_KEY = 'cairn.admin.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Called on a 401: the page asks for a token again. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the admin service did not answer: ${String(err)}`);
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below when the status is an error
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; hint?: string } } | undefined)?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? (text || res.statusText),
      e?.hint,
    );
  }
  return json as T;
}

/** A refused write (403) in words the user can act on. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403)
      return `Refused (403): ${err.message}. This token is read-only; writes need a token with the write role.`;
    return `${err.message}${err.hint ? ` (${err.hint})` : ''} [${err.code}]`;
  }
  return String(err);
}

// ---- The shapes of the routes (docs: the admin API's OpenAPI document) ----------------------

export interface JourneySummary {
  id: string;
  name?: string;
  status: string;
  active: number | null;
  latest: number;
  shadow?: number | null;
  /** The active version's numbers of the last 24 hours and the dead letters (absent: none active). */
  enteredToday?: number;
  current?: number;
  deliveries?: number;
  failures?: number;
}

export interface VersionInfo {
  version: number;
  status: string;
  publishedAt: string | number;
  hash: string;
}

export interface JourneyDetail {
  head: unknown;
  versions: VersionInfo[];
}

export interface JourneyVersion {
  version: number;
  document: unknown;
  source: string;
  graph?: JourneyGraph;
}

export interface Problem {
  path: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
  code?: string;
  severity?: 'error' | 'warning';
}

export type Validation = { ok: true; id: string; warnings?: Problem[] } | { ok: false; problems: Problem[] };

export interface UserView {
  userKey: string;
  instances: Array<{
    journeyId: string;
    version: number;
    instanceKey: string;
    status: string;
    stepId: string | null;
    waitUntil?: number | string;
  }>;
  timers: unknown[];
  timeline: TimelineRecord[];
}

export interface TimelineRecord {
  at: number | string;
  type: string;
  journeyId: string;
  version: number;
  instanceKey?: string;
  stepId?: string;
  branchId?: string;
  reason?: string;
  detail?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Health {
  stages: Array<{
    stage: string;
    consumer: string;
    pending: number;
    ackPending: number;
    lagSeconds?: number;
  }>;
  watermarkAgeSeconds: number | null;
  nats: Record<string, unknown>;
}

export interface Destination {
  id: string;
  type?: string;
  kind?: string;
  url?: string;
  /** Absent when the service does not know it (the sender keeps it in memory). */
  circuit?: 'closed' | 'open' | 'half_open' | 'unknown';
  /** Set when a 410 Gone disabled the destination. */
  disabled?: Record<string, unknown>;
}

export interface DlqRecord {
  seq: number;
  destination: string;
  journeyId: string;
  deliveryId: string;
  reason: string;
  /** The number of attempts in the list; the record itself (GET /dlq/:seq) may list them. */
  attempts: number | unknown[];
  at: number | string;
  history?: unknown[];
  [key: string]: unknown;
}

export interface Whoami {
  name: string;
  role: 'read' | 'write';
}

export type { JourneyStats, JourneyGraph };
