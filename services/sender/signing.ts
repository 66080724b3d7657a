// Standard Webhooks signing (https://www.standardwebhooks.com): the receiver recomputes
// HMAC-SHA256 over `${id}.${timestamp}.${body}` with the secret's base64-decoded bytes. With
// several secrets (rotation), `webhook-signature` lists one `v1,<sig>` per secret, separated by
// spaces: a receiver that knows any one of them accepts the request.
import { createHmac } from 'node:crypto';

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** One `v1,<base64>` signature; `secret` is `whsec_<base64>`. */
export function signatureOf(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** `secrets` are `whsec_<base64>` (one or several); `timestampSec` is unix seconds. */
export function signWebhook(
  secrets: string | readonly string[],
  id: string,
  timestampSec: number,
  body: string,
): SignatureHeaders {
  const timestamp = String(timestampSec);
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': list.map((s) => signatureOf(s, id, timestamp, body)).join(' '),
  };
}
