// Bearer tokens of the admin HTTP API (CAIRN_ADMIN_TOKENS): who is calling, and may they write.
// Tokens are compared in constant time over their SHA-256 digests, so neither a token's content
// nor its length shows in the time an answer takes; every configured token is compared.
import { createHash, timingSafeEqual } from 'node:crypto';

import type { AdminToken } from '../../libs/config/index.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True when `a` equals `b`, in a time that depends on neither's content nor length. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** The configured token matching `presented`, comparing with every one of them. */
export function authenticate(tokens: readonly AdminToken[], presented: string): AdminToken | undefined {
  let found: AdminToken | undefined;
  for (const t of tokens) if (constantTimeEqual(t.token, presented) && found === undefined) found = t;
  return found;
}
