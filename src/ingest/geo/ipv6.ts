import { isIPv6 } from 'node:net';
import { parseIpv4 } from './ipv4.js';

/** Parses an IPv6 address (any RFC 4291 text form, optional %zone) to a 128-bit bigint; undefined if invalid. */
export function parseIpv6(text: string): bigint | undefined {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (!isIPv6(addr)) return undefined;
  let head = addr;
  let tailV4: number | undefined;
  const lastColon = addr.lastIndexOf(':');
  if (addr.indexOf('.', lastColon) >= 0) {
    tailV4 = parseIpv4(addr.slice(lastColon + 1));
    if (tailV4 < 0) return undefined;
    head = addr.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) v = (v & ~0xffffffffn) | BigInt(tailV4);
  return v;
}

/** True for IPv6 addresses that are not global unicast clients (loopback, ULA, link-local, unspecified). */
export function isPrivateIpv6(v: bigint): boolean {
  if (v === 0n || v === 1n) return true;
  const top16 = Number(v >> 112n);
  return (top16 & 0xfe00) === 0xfc00 || (top16 & 0xffc0) === 0xfe80 || (top16 & 0xff00) === 0xff00;
}

/** A 128-bit value as eight full hexadecimal groups ("2001:0db8:0000:...:0001"). */
export function formatIpv6Full(v: bigint): string {
  return v.toString(16).padStart(32, '0').replace(/(.{4})(?!$)/g, '$1:');
}
