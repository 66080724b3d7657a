// Egress guard: webhooks may not reach loopback, private or link-local addresses unless
// CAIRN_EGRESS_ALLOW_LOOPBACK is set (dev and tests). Checked on the resolved address, at
// connect time, so that a DNS name pointing inside the network is refused too.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

export const EGRESS_DENIED = 'CAIRN_E_EGRESS_DENIED';

export class EgressDeniedError extends Error {
  override readonly name = 'EgressDeniedError';
  readonly code = EGRESS_DENIED;
}

function v4(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** True for loopback, private, link-local, CGNAT, unspecified and unique-local addresses. */
export function isInternalAddress(ip: string): boolean {
  const kind = isIP(ip);
  if (kind === 4) {
    const [a = 0, b = 0] = v4(ip);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (kind === 6) {
    const s = ip.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (mapped) return isInternalAddress(mapped[1]!);
    return s === '::' || s === '::1' || /^f[cd]/.test(s) || /^fe[89ab]/.test(s);
  }
  return false;
}

/** The host of a URL as an address when it is an IP literal (brackets removed). */
export function literalAddress(hostname: string): string | undefined {
  const h = hostname.replace(/^\[|\]$/g, '');
  return isIP(h) ? h : undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for net.connect that refuses internal addresses. */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const bad = addresses.find((a) => isInternalAddress(a.address));
    if (bad) {
      return callback(new EgressDeniedError(`${hostname} resolves to internal address ${bad.address}`), '');
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(new Error(`${hostname} has no address`), '');
    callback(null, first.address, first.family);
  });
}
