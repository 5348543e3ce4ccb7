import type { StoredIpType } from '../../contract/traffic/values.js';
import { parseIpv4 } from '../geo/ipv4.js';
import { parseIpv6 } from '../geo/ipv6.js';

/**
 * The address family of a line's client address (the one geo resolution uses): 'v4', 'v6', or
 * 'other' when it is not an IP address (the line still counts; no ip_type filter matches it).
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, what dual-stack sockets log for IPv4 clients) is 'v4'.
 */
export function ipTypeOf(address: string): StoredIpType {
  if (parseIpv4(address) >= 0) return 'v4';
  if (address.indexOf(':') < 0) return 'other';
  const v6 = parseIpv6(address);
  if (v6 === undefined) return 'other';
  return v6 >> 32n === 0xffffn ? 'v4' : 'v6';
}
