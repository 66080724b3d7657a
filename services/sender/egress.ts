// Egress guard (SSRF): a webhook may not reach an address in CAIRN_EGRESS_DENY (by default the
// loopback, private and link-local ranges) unless CAIRN_EGRESS_ALLOW covers it; with
// CAIRN_EGRESS_ALLOW_LOOPBACK=true (dev and tests: `cairn up`) everything is allowed. Checked on
// the resolved address, at connect time, so that a DNS name pointing inside is refused too.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

import type { Cidr, Config } from '../../libs/config/index.js';

export const EGRESS_DENIED = 'CAIRN_E_EGRESS_DENIED';

/** What a refused address can do about it: the settings, named (in DLQ records and CLI errors). */
export const EGRESS_HINT =
  'reachable only when CAIRN_EGRESS_ALLOW covers it, or with CAIRN_EGRESS_ALLOW_LOOPBACK=true (development; `cairn up` sets it)';

export class EgressDeniedError extends Error {
  override readonly name = 'EgressDeniedError';
  readonly code = EGRESS_DENIED;
}

/** The host of a URL as an address when it is an IP literal (brackets removed). */
export function literalAddress(hostname: string): string | undefined {
  const h = hostname.replace(/^\[|\]$/g, '');
  return isIP(h) ? h : undefined;
}

function blockList(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** Which addresses webhooks may reach. */
export class EgressPolicy {
  private readonly deny: BlockList;
  private readonly allow: BlockList;

  constructor(
    deny: readonly Cidr[],
    allow: readonly Cidr[] = [],
    /** Everything is allowed (CAIRN_EGRESS_ALLOW_LOOPBACK). */
    readonly open = false,
  ) {
    this.deny = blockList(deny);
    this.allow = blockList(allow);
  }

  static fromConfig(
    config: Pick<Config, 'egressAllowLoopback' | 'egressDeny' | 'egressAllow'>,
  ): EgressPolicy {
    return new EgressPolicy(config.egressDeny, config.egressAllow, config.egressAllowLoopback);
  }

  /** True when a webhook may connect to `ip`. */
  permits(ip: string): boolean {
    if (this.open) return true;
    const kind = isIP(ip);
    if (kind === 0) return false;
    const mapped = kind === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] : undefined;
    const [addr, family] = mapped
      ? [mapped, 'ipv4' as const]
      : [ip, kind === 4 ? ('ipv4' as const) : ('ipv6' as const)];
    return !this.deny.check(addr, family) || this.allow.check(addr, family);
  }

  /** A `lookup` for net.connect that refuses addresses this policy denies. */
  readonly lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const bad = addresses.find((a) => !this.permits(a.address));
      if (bad) {
        return callback(
          new EgressDeniedError(
            `${hostname} resolves to ${bad.address}, a denied network (CAIRN_EGRESS_DENY); ${EGRESS_HINT}`,
          ),
          '',
        );
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '');
      callback(null, first.address, first.family);
    });
  };
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
