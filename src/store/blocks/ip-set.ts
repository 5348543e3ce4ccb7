import { BlockFormatError } from './varint.js';

/**
 * A set of IPv4 addresses (unsigned 32-bit integers) as bytes: ascending, the first as a varint,
 * each next one as the varint of (gap - 1) from the one before (LEB128, 7 bits a byte). No count:
 * the blob's length ends it. Sets of n random addresses cost about log2(2^32 / n) / 7 bytes each
 * (3 bytes at 10,000 addresses, 4 at 100), against some 20-30 bytes per row for a table of them.
 * The exact distinct sets of the audience cube (docs/storage.md) are kept this way.
 */

const MAX_V4 = 0xffff_ffff;

/** Encodes ascending distinct addresses (Float64Array or Uint32Array, whole numbers 0..2^32-1). */
export function encodeIpSet(ips: ArrayLike<number>, n = ips.length): Uint8Array {
  const out = new Uint8Array(n * 5);
  let pos = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const ip = ips[i] as number;
    if (!(ip > prev && ip <= MAX_V4 && Number.isInteger(ip))) throw new RangeError(`ip set not ascending at ${i}`);
    let v = prev < 0 ? ip : ip - prev - 1;
    prev = ip;
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[pos++] = v;
  }
  return out.slice(0, pos);
}

/** Decodes what encodeIpSet wrote (ascending). Throws BlockFormatError on malformed bytes. */
export function decodeIpSet(buf: Uint8Array): Float64Array {
  // Every address takes at least one byte: the length bounds the count.
  const out = new Float64Array(buf.length);
  let n = 0;
  let pos = 0;
  let prev = -1;
  while (pos < buf.length) {
    let v = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= buf.length) throw new BlockFormatError(`truncated ip set at byte ${pos}`);
      if (i > 4) throw new BlockFormatError(`ip set varint longer than 5 bytes at byte ${pos}`);
      const b = buf[pos++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    const ip = prev < 0 ? v : prev + 1 + v;
    if (ip > MAX_V4) throw new BlockFormatError(`ip set entry beyond 2^32 at byte ${pos}`);
    out[n++] = prev = ip;
  }
  return out.subarray(0, n);
}

/**
 * Merges addresses into a stored set. `add` is ascending and distinct. Returns the merged set and,
 * per entry of `add`, whether it was new (1) or already stored (0).
 */
export function mergeIpSet(stored: Float64Array, add: Float64Array): { merged: Float64Array; fresh: Uint8Array } {
  const merged = new Float64Array(stored.length + add.length);
  const fresh = new Uint8Array(add.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < stored.length || j < add.length) {
    const a = i < stored.length ? (stored[i] as number) : Infinity;
    const b = j < add.length ? (add[j] as number) : Infinity;
    if (a < b) merged[n++] = stored[i++] as number;
    else if (b < a) {
      fresh[j++] = 1;
      merged[n++] = b;
    } else {
      merged[n++] = a;
      i++;
      j++;
    }
  }
  return { merged: merged.subarray(0, n), fresh };
}
