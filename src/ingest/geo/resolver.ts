import { parseIpv4 } from './ipv4.js';
import { formatIpv6Full, parseIpv6 } from './ipv6.js';
import { buildIpv4Index, lookupIpv4, searchIp2region, type Ipv4Index } from './ip2region-data.js';
import { UNKNOWN_GEO, type GeoCode } from './names.js';
import { matchOverride, type GeoOverride } from './overrides.js';

const CACHE_LIMIT = 200_000;

/**
 * IP address text -> (region, isp) code: overrides first, then the compact IPv4 index,
 * then ip2region's IPv6 search. Results are cached per address text (bounded).
 */
export class GeoResolver {
  private cache = new Map<string, GeoCode>();

  private readonly v4Overrides: readonly GeoOverride[];

  constructor(private readonly index: Ipv4Index, private readonly overrides: readonly GeoOverride[] = []) {
    this.v4Overrides = overrides.filter((o) => !o.v6);
  }

  static create(overrides: readonly GeoOverride[] = []): GeoResolver {
    return new GeoResolver(buildIpv4Index(), overrides);
  }

  lookup(ip: string): GeoCode {
    // IPv4 without overrides: parsing and one binary search beat a string-keyed cache.
    if (this.v4Overrides.length === 0) {
      const v4 = parseIpv4(ip);
      if (v4 >= 0) return lookupIpv4(this.index, v4);
    }
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached;
    const code = this.resolve(ip);
    if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
    this.cache.set(ip, code);
    return code;
  }

  /** lookup() of an address already parsed as IPv4 (`v4` = parseIpv4(ip) >= 0). */
  lookupV4(ip: string, v4: number): GeoCode {
    return this.v4Overrides.length === 0 ? lookupIpv4(this.index, v4) : this.lookup(ip);
  }

  private resolve(ip: string): GeoCode {
    const v4 = parseIpv4(ip);
    if (v4 >= 0) {
      return matchOverride(this.v4Overrides, false, BigInt(v4)) ?? lookupIpv4(this.index, v4);
    }
    const v6 = parseIpv6(ip);
    if (v6 === undefined) return UNKNOWN_GEO;
    const o = matchOverride(this.overrides, true, v6);
    if (o !== undefined) return o;
    if (v6 >> 32n === 0xffffn) {
      const mapped = Number(v6 & 0xffffffffn);
      const o4 = matchOverride(this.overrides, false, BigInt(mapped));
      return o4 ?? lookupIpv4(this.index, mapped);
    }
    // ip2region gets the address in full form: its own parser throws on zones, brackets and odd zero groups.
    return searchIp2region(formatIpv6Full(v6));
  }
}
