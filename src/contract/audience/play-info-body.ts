import { JsonBytes, UtcSecondWriter, asciiBytes } from '../json-bytes.js';
import { bandwidthBps } from '../traffic/bandwidth.js';
import { AUDIENCE_PROTOCOLS } from './values.js';

/**
 * One minute's streams in columns, as a store reads them: stream i is (domains[i], apps[i],
 * streams[i]); protocol p (index into AUDIENCE_PROTOCOLS) of it has `online[i x P + p]` viewers
 * and `bytes[i x P + p]` bytes (P = AUDIENCE_PROTOCOLS.length).
 */
export interface PlayInfoColumns {
  domains: readonly string[];
  apps: readonly string[];
  streams: readonly string[];
  online: Float64Array;
  bytes: Float64Array;
}

const P = AUDIENCE_PROTOCOLS.length;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stream indexes in answer order: domain, stream, then app (UTF-16 code unit order, as playInfoEntries). */
export function playInfoOrder(c: PlayInfoColumns): Int32Array {
  const order = Int32Array.from({ length: c.streams.length }, (_, i) => i);
  return order.sort((a, b) =>
    byText(c.domains[a] as string, c.domains[b] as string) || byText(c.streams[a] as string, c.streams[b] as string) ||
    byText(c.apps[a] as string, c.apps[b] as string));
}

/**
 * Calls `fn(i, p)` for every listed entry in the answer's order (domain, stream, protocol, app): a
 * known protocol with bytes or viewers, of a stream with a name (playInfoEntries' rules).
 */
export function eachPlayInfoEntry(c: PlayInfoColumns, fn: (i: number, p: number) => void): void {
  const order = playInfoOrder(c);
  for (let g = 0; g < order.length;) {
    // A group: streams of one (domain, stream) name, apps ascending; protocols first, then apps.
    const first = order[g] as number;
    let end = g + 1;
    while (end < order.length && c.domains[order[end] as number] === c.domains[first] && c.streams[order[end] as number] === c.streams[first]) end++;
    if (c.streams[first] !== '') {
      for (let p = 0; p < P; p++) {
        for (let k = g; k < end; k++) {
          const i = order[k] as number;
          if ((c.online[i * P + p] as number) > 0 || (c.bytes[i * P + p] as number) > 0) fn(i, p);
        }
      }
    }
    g = end;
  }
}

const OPEN = asciiBytes('{"time":"');
const LIST = asciiBytes('","data_list":[');
const DOMAIN = asciiBytes('{"play_domain":');
const STREAM = asciiBytes(',"stream":');
const PROTOCOL = AUDIENCE_PROTOCOLS.map((p) => asciiBytes(`,"protocol":"${p}","bandwidth":`));
const ONLINE = asciiBytes(',"online":');
const CLOSE = asciiBytes(']}');
const encoder = new TextEncoder();

/** A string as JSON (JSON.stringify's text, UTF-8): printable ASCII without quotes or backslashes as is. */
function jsonString(s: string): Uint8Array {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) {
    const ch = s.charCodeAt(i);
    plain = ch >= 0x20 && ch < 0x7f && ch !== 0x22 && ch !== 0x5c;
  }
  if (!plain) return encoder.encode(JSON.stringify(s));
  const b = new Uint8Array(s.length + 2);
  b[0] = 0x22;
  for (let i = 0; i < s.length; i++) b[i + 1] = s.charCodeAt(i);
  b[s.length + 1] = 0x22;
  return b;
}

/**
 * The ListPlayDomainStreamInfo answer rendered straight to bytes from the minute's columns: the
 * same bytes as JSON.stringify(shapePlayInfo(q, cells)) over the same streams (tested), without an
 * object per entry. Each name is encoded once.
 */
export function renderPlayInfo(minute: number, c: PlayInfoColumns): Uint8Array {
  const out = new JsonBytes(64 + c.streams.length * 2 * 96);
  out.ensure(OPEN.length + 20 + LIST.length);
  out.bytes(OPEN);
  new UtcSecondWriter().write(out, minute);
  out.bytes(LIST);
  const names = new Map<string, Uint8Array>();
  const named = (s: string): Uint8Array => {
    let b = names.get(s);
    if (b === undefined) names.set(s, (b = jsonString(s)));
    return b;
  };
  let first = true;
  eachPlayInfoEntry(c, (i, p) => {
    const domain = named(c.domains[i] as string);
    const stream = named(c.streams[i] as string);
    out.ensure(domain.length + stream.length + 128);
    if (!first) out.buf[out.pos++] = 44; // ','
    first = false;
    out.bytes(DOMAIN);
    out.bytes(domain);
    out.bytes(STREAM);
    out.bytes(stream);
    out.bytes(PROTOCOL[p] as Uint8Array);
    out.number(bandwidthBps(c.bytes[i * P + p] as number, 60));
    out.bytes(ONLINE);
    out.number(c.online[i * P + p] as number);
    out.buf[out.pos++] = 125; // '}'
  });
  out.ensure(CLOSE.length);
  out.bytes(CLOSE);
  return out.finish();
}
