// One webhook delivery attempt: POST the JSON payload, signed when the destination has a
// secret(s), and classify the answer (DESIGN.md §2): 2xx ok; 408, 429, 5xx and network errors
// (refused, reset, DNS, TLS, timeout) retry; 410 Gone disables the destination; any other
// status (3xx included, as Standard Webhooks says) is final.
import { signingSecrets, type DeliverJob, type WebhookDestination } from '../../libs/bus/index.js';
import { request, type Dispatcher } from 'undici';

import { retryAfterMs } from './backoff.js';
import { EGRESS_DENIED, EGRESS_HINT, literalAddress, type EgressPolicy } from './egress.js';
import { signWebhook } from './signing.js';

/** Response bodies are read up to this many bytes and discarded. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export type AttemptResult =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status?: number; retryAfterMs?: number; detail: string }
  | { kind: 'failed'; reason: string; status?: number; detail: string }
  | { kind: 'gone'; status: 410; detail: string };

export interface WebhookOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  /** Which addresses may be reached: an IP literal is checked here, a name by the dispatcher's
   * lookup (EgressPolicy.lookup). */
  egress: EgressPolicy;
  now?: () => number;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function webhookHeaders(
  dest: WebhookDestination,
  job: DeliverJob,
  body: string,
  nowMs: number,
): Record<string, string> {
  const headers: Record<string, string> = { ...dest.headers };
  headers['content-type'] = 'application/json';
  headers['user-agent'] = 'cairn';
  headers['idempotency-key'] = job.deliveryId;
  const secrets = signingSecrets(dest);
  if (secrets.length > 0) {
    Object.assign(headers, signWebhook(secrets, job.deliveryId, Math.floor(nowMs / 1_000), body));
  }
  return headers;
}

/** The IP literal of each destination URL (or none), parsed once per URL, not per delivery. */
const literals = new Map<string, string | undefined>();
const MAX_CACHED_URLS = 10_000;

function literalOf(url: string): string | undefined {
  if (literals.has(url)) return literals.get(url);
  const literal = literalAddress(new URL(url).hostname);
  if (literals.size >= MAX_CACHED_URLS) literals.clear();
  literals.set(url, literal);
  return literal;
}

export async function sendWebhook(
  dest: WebhookDestination,
  job: DeliverJob,
  opts: WebhookOptions,
): Promise<AttemptResult> {
  const now = opts.now ?? Date.now;
  const literal = literalOf(dest.url);
  if (literal !== undefined && !opts.egress.permits(literal)) {
    return {
      kind: 'failed',
      reason: 'egress_denied',
      detail: `${literal} is in a denied network (CAIRN_EGRESS_DENY); ${EGRESS_HINT}`,
    };
  }
  const body = JSON.stringify(job.payload);
  const headers = webhookHeaders(dest, job, body, now());
  let res: Dispatcher.ResponseData;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    res = await request(dest.url, {
      method: 'POST',
      headers,
      body,
      dispatcher: opts.dispatcher,
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    if (e.code === EGRESS_DENIED || e.cause?.code === EGRESS_DENIED) {
      return { kind: 'failed', reason: 'egress_denied', detail: e.message };
    }
    return { kind: 'retry', detail: `network: ${e.code ?? e.name}: ${e.message}` };
  }
  await discardBody(res.body);
  const status = res.statusCode;
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  if (status === 410) return { kind: 'gone', status, detail: 'http 410: the destination is gone' };
  if (isRetryableStatus(status)) {
    const after = retryAfterMs(res.headers['retry-after'], now());
    return after === undefined
      ? { kind: 'retry', status, detail: `http ${status}` }
      : { kind: 'retry', status, retryAfterMs: after, detail: `http ${status}` };
  }
  return { kind: 'failed', reason: `http_${status}`, status, detail: `http ${status}` };
}

/** Reads at most MAX_RESPONSE_BYTES, then drops the connection's rest of the body. */
async function discardBody(body: Dispatcher.ResponseData['body']): Promise<void> {
  let read = 0;
  try {
    for await (const chunk of body) {
      read += (chunk as Buffer).length;
      if (read >= MAX_RESPONSE_BYTES) {
        body.destroy();
        return;
      }
    }
  } catch {
    // The status is what counts; a body cut short does not change it.
  }
}
