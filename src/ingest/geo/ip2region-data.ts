import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ispOf, packGeo, regionOf, type GeoCode } from './names.js';

const require = createRequire(import.meta.url);

/** Where the ip2region npm package keeps its data files. */
export function ip2regionDataDir(): string {
  return join(dirname(require.resolve('ip2region/package.json')), 'data');
}

/** A compact sorted IPv4 range index: range i covers [starts[i], starts[i+1]) and has codes[i]. */
export interface Ipv4Index {
  starts: Uint32Array;
  codes: Uint8Array;
  /** For each /16 prefix p: the index of the range holding address p<<16 (p = 65536: the last range). */
  byPrefix: Uint32Array;
}

function prefixTable(starts: Uint32Array): Uint32Array {
  const t = new Uint32Array(65537);
  let r = 0;
  for (let p = 0; p < 65536; p++) {
    const addr = p * 65536;
    while (r + 1 < starts.length && (starts[r + 1] as number) <= addr) r++;
    t[p] = r;
  }
  t[65536] = starts.length - 1;
  return t;
}

/** Maps one ip2region record ("country|area|province|city|isp", "0" meaning unknown) to a GeoCode. */
export function geoOfRecord(record: string): GeoCode {
  const f = record.split('|');
  const field = (i: number): string => (f[i] === undefined || f[i] === '0' ? '' : (f[i] as string));
  return packGeo(regionOf(field(0), field(2)), ispOf(field(4)));
}

/**
 * Builds the IPv4 index from ip2region's v1 database (a header of two index pointers,
 * 12-byte index blocks of start, end, data pointer; data = 4-byte city id + text).
 * Adjacent ranges with the same (region, isp) are merged, so the index is small and a lookup
 * is one binary search over integers.
 */
export function buildIpv4Index(file = join(ip2regionDataDir(), 'ip2region.db')): Ipv4Index {
  const db = readFileSync(file);
  // Plain byte reads: Buffer.readUInt32LE validates its offset on every call (most of the build time).
  const u32 = (p: number): number => ((db[p] as number) | ((db[p + 1] as number) << 8) | ((db[p + 2] as number) << 16)) + (db[p + 3] as number) * 0x1000000;
  if (db.length < 8) throw new Error(`ip2region: bad index in ${file}`);
  const first = u32(0);
  const last = u32(4);
  if (last < first || (last - first) % 12 !== 0 || last + 12 > db.length) throw new Error(`ip2region: bad index in ${file}`);
  const blocks = (last - first) / 12 + 1;
  const starts = new Uint32Array(blocks);
  const codes = new Uint8Array(blocks);
  const byPointer = new Map<number, GeoCode>();
  let n = 0;
  let expected = 0;
  for (let i = 0; i < blocks; i++) {
    const p = first + i * 12;
    const sip = u32(p);
    const eip = u32(p + 4);
    const ptr = u32(p + 8);
    let code = byPointer.get(ptr);
    if (code === undefined) {
      const len = ptr >>> 24;
      const pos = ptr & 0xffffff;
      code = len > 4 && pos + len <= db.length ? geoOfRecord(db.toString('utf8', pos + 4, pos + len)) : packGeo('OT', 'OTHER');
      byPointer.set(ptr, code);
    }
    if (sip !== expected && n > 0) {
      // A gap in the data: mark it unknown.
      starts[n] = expected;
      codes[n++] = packGeo('OT', 'OTHER');
    }
    if (n === 0 || codes[n - 1] !== code) {
      starts[n] = sip;
      codes[n++] = code;
    }
    expected = eip + 1;
  }
  const s = starts.slice(0, n);
  return { starts: s, codes: codes.slice(0, n), byPrefix: prefixTable(s) };
}

/** The GeoCode of an IPv4 address (unsigned 32-bit) in the index. */
export function lookupIpv4(index: Ipv4Index, ip: number): GeoCode {
  const { starts, codes, byPrefix } = index;
  const p = ip >>> 16;
  let lo = byPrefix[p] as number;
  let hi = byPrefix[p + 1] as number;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((starts[mid] as number) <= ip) lo = mid;
    else hi = mid - 1;
  }
  return codes[lo] as number;
}

interface Ip2RegionResult {
  country: string;
  province: string;
  isp: string;
}
interface Ip2RegionSearcher {
  search(ip: string): Ip2RegionResult | null;
}

let searcher: Ip2RegionSearcher | undefined;

/** IPv6 (and anything else) through the package's own search; loaded on first use. */
export function searchIp2region(ip: string): GeoCode {
  if (!searcher) {
    const mod = require('ip2region') as { default: new () => Ip2RegionSearcher };
    searcher = new mod.default();
  }
  const r = searcher.search(ip);
  return r ? packGeo(regionOf(r.country, r.province), ispOf(r.isp)) : packGeo('OT', 'OTHER');
}
