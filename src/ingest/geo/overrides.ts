import { readFileSync } from 'node:fs';
import { isIsp, isRegion } from '../../contract/values.js';
import { parseIpv4 } from './ipv4.js';
import { parseIpv6 } from './ipv6.js';
import { packGeo, type GeoCode } from './names.js';

/** One `CIDR,region,isp` rule; IPv4 rules match IPv4 addresses only, IPv6 rules IPv6 only. */
export interface GeoOverride {
  v6: boolean;
  network: bigint;
  mask: bigint;
  code: GeoCode;
}

export class GeoOverrideError extends Error {}

/** Parses a geo-overrides CSV (CIDR,region,isp; '#' comments and blank lines allowed). Throws with line numbers. */
export function parseGeoOverrides(text: string, source = 'geo overrides'): GeoOverride[] {
  const rules: GeoOverride[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${i + 1}`;
    const [cidr = '', region = '', isp = '', ...rest] = line.split(',').map((s) => s.trim());
    if (rest.length > 0) throw new GeoOverrideError(`${where}: expected CIDR,region,isp`);
    if (!isRegion(region)) throw new GeoOverrideError(`${where}: unknown region "${region}"`);
    if (!isIsp(isp)) throw new GeoOverrideError(`${where}: unknown isp "${isp}"`);
    const slash = cidr.indexOf('/');
    const addr = slash >= 0 ? cidr.slice(0, slash) : cidr;
    const v4 = parseIpv4(addr);
    const v6 = v4 < 0 ? parseIpv6(addr) : undefined;
    if (v4 < 0 && v6 === undefined) throw new GeoOverrideError(`${where}: "${cidr}" is not an IP address or CIDR`);
    const bits = v4 >= 0 ? 32 : 128;
    const lenText = slash >= 0 ? cidr.slice(slash + 1) : String(bits);
    const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
    if (len < 0 || len > bits) throw new GeoOverrideError(`${where}: bad prefix length in "${cidr}"`);
    const all = (1n << BigInt(bits)) - 1n;
    const mask = all ^ ((1n << BigInt(bits - len)) - 1n);
    const network = (v4 >= 0 ? BigInt(v4) : (v6 as bigint)) & mask;
    rules.push({ v6: v4 < 0, network, mask, code: packGeo(region, isp) });
  });
  return rules;
}

export function loadGeoOverrides(file: string): GeoOverride[] {
  return parseGeoOverrides(readFileSync(file, 'utf8'), file);
}

/** The first matching rule's code, or undefined. */
export function matchOverride(rules: readonly GeoOverride[], v6: boolean, value: bigint): GeoCode | undefined {
  for (const r of rules) if (r.v6 === v6 && (value & r.mask) === r.network) return r.code;
  return undefined;
}
