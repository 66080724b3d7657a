// Networks in CIDR notation (`10.0.0.0/8`, `fd00::/8`; a bare address is one host), for the
// egress allow and deny lists.
import { isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `addr/prefix` (or a bare address); undefined when it is not a network. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const kind = isIP(address);
  if (kind === 0) return undefined;
  const max = kind === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: kind === 4 ? 'ipv4' : 'ipv6' };
}
