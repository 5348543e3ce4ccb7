import { JsonBytes, UtcSecondWriter, asciiBytes, giveSpare, writeSmallInt } from '../json-bytes.js';
import { formatUtcSecond } from '../time.js';
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
  /** The streams' indexes in answer order (playInfoOrder's), when the reader has them already; else sorted here. */
  order?: Int32Array;
  /** With `order`: its groups and the entries' texts (playInfoLayout), kept by the reader while its columns' names and order stay. */
  layout?: PlayInfoLayout;
}

const P = AUDIENCE_PROTOCOLS.length;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stream indexes in answer order: domain, stream, then app (UTF-16 code unit order, as playInfoEntries). */
export function playInfoOrder(c: Pick<PlayInfoColumns, 'domains' | 'apps' | 'streams'>): Int32Array {
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
  const order = c.order ?? playInfoOrder(c);
  // The groups' ends the reader keeps with its order (playInfoLayout), else found here.
  const ends = c.order !== undefined ? c.layout?.groupEnd : undefined;
  for (let g = 0; g < order.length;) {
    // A group: streams of one (domain, stream) name, apps ascending; protocols first, then apps.
    const first = order[g] as number;
    const end = ends !== undefined ? (ends[g] as number) : groupEndAt(c, order, g);
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

/** The position after the group (streams of one (domain, stream) name) that starts at position g of `order`. */
function groupEndAt(c: Pick<PlayInfoColumns, 'domains' | 'streams'>, order: Int32Array, g: number): number {
  const first = order[g] as number;
  let end = g + 1;
  while (end < order.length && c.domains[order[end] as number] === c.domains[first] && c.streams[order[end] as number] === c.streams[first]) end++;
  return end;
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

/** A text as little-endian 32-bit words: copied with one store per 4 bytes (the last may spill up to 3 bytes). */
export interface Words {
  words: Uint32Array;
  length: number;
}

function wordsOf(bytes: Uint8Array): Words {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  for (let j = 0; j < bytes.length; j++) words[j >> 2] = ((words[j >> 2] as number) | ((bytes[j] as number) << (8 * (j & 3)))) >>> 0;
  return { words, length: bytes.length };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** Writes w at p (out has room for w's words); returns the position after its text. */
function putWords(view: DataView, p: number, w: Words): number {
  const words = w.words;
  for (let k = 0; k < words.length; k++) view.setUint32(p + 4 * k, words[k] as number, true);
  return p + w.length;
}

const ONLINE_WORDS = wordsOf(ONLINE);

/** Names' texts kept across answers at most (each a few words; more: both maps start again). */
const MAX_NAMES = 20_000;
/** '{"play_domain":"<domain>","stream":' by domain. */
const heads = new Map<string, Words>();
/** '"<stream>","protocol":"<p>","bandwidth":' by stream name, one per protocol. */
const tails = new Map<string, Words[]>();

function headOf(domain: string): Words {
  let head = heads.get(domain);
  if (head === undefined) {
    if (heads.size >= MAX_NAMES) heads.clear();
    heads.set(domain, (head = wordsOf(concat(DOMAIN, jsonString(domain), STREAM))));
  }
  return head;
}

function tailsOf(stream: string): Words[] {
  let tail = tails.get(stream);
  if (tail === undefined) {
    if (tails.size >= MAX_NAMES) tails.clear();
    const name = jsonString(stream);
    tails.set(stream, (tail = PROTOCOL.map((proto) => wordsOf(concat(name, proto)))));
  }
  return tail;
}

/**
 * Writes one entry (',' first unless it is the first) of `domain`'s text `head` and the stream's protocol text `t`
 * (undefined: `head` is the whole text up to the bandwidth, PlayInfoLayout's).
 */
function putEntry(out: JsonBytes, first: boolean, head: Words, t: Words | undefined, bytes: number, online: number): void {
  // Each copy may spill 3 bytes; two numbers of up to 24 bytes.
  out.ensure(1 + head.length + (t?.length ?? 0) + ONLINE.length + 2 * 24 + 1 + 4);
  const view = out.view;
  let at = out.pos;
  if (!first) out.buf[at++] = 44; // ','
  at = putWords(view, at, head);
  if (t !== undefined) at = putWords(view, at, t);
  const bandwidth = bandwidthBps(bytes, 60);
  if (bandwidth <= 0x7fffffff && (bandwidth | 0) === bandwidth && bandwidth >= 0) at = writeSmallInt(out.buf, view, at, bandwidth);
  else {
    out.pos = at;
    out.number(bandwidth);
    at = out.pos;
  }
  at = putWords(view, at, ONLINE_WORDS);
  if (online <= 0x7fffffff && (online | 0) === online && online >= 0) at = writeSmallInt(out.buf, view, at, online);
  else {
    out.pos = at;
    out.number(online);
    at = out.pos;
  }
  out.buf[at++] = 125; // '}'
  out.pos = at;
}

/** The answer's opening: '{"time":"<minute>","data_list":['. */
function open(room: number, minute: number): JsonBytes {
  const out = new JsonBytes(room);
  out.ensure(OPEN.length + 20 + LIST.length);
  out.bytes(OPEN);
  new UtcSecondWriter().write(out, minute);
  out.bytes(LIST);
  return out;
}

function close(out: JsonBytes): Uint8Array {
  out.ensure(CLOSE.length);
  out.bytes(CLOSE);
  return out.finish();
}

/**
 * The ListPlayDomainStreamInfo answer rendered straight to bytes from the minute's columns: the
 * same bytes as JSON.stringify(shapePlayInfo(q, cells)) over the same streams (tested), without an
 * object per entry. Each name is encoded once, with the texts around it: an entry is
 * '{"play_domain":"<domain>","stream":' (one text per domain), '"<stream>","protocol":"<p>","bandwidth":'
 * (one per stream name and protocol), the bandwidth, ',"online":' and the viewers, copied as words. The
 * names' texts are kept across answers (headOf, tailsOf: a bounded map of texts made from the name alone).
 */
export function renderPlayInfo(minute: number, c: PlayInfoColumns): Uint8Array {
  // About two entries per stream of ~90 bytes besides its names: room for them at once (growing copies the answer).
  let room = 64;
  for (let i = 0; i < c.streams.length; i++) room += 2 * (96 + (c.domains[i] as string).length + (c.streams[i] as string).length);
  const out = open(room, minute);
  let first = true;
  // With the reader's layout: each (stream, protocol)'s whole text up to its bandwidth, made when first listed.
  const texts = c.order !== undefined ? c.layout?.texts : undefined;
  eachPlayInfoEntry(c, (i, p) => {
    const at = i * P + p;
    if (texts !== undefined) {
      let text = texts[at];
      if (text === undefined) texts[at] = text = wordsOf(concat(DOMAIN, jsonString(c.domains[i] as string), STREAM, jsonString(c.streams[i] as string), PROTOCOL[p] as Uint8Array));
      putEntry(out, first, text, undefined, c.bytes[at] as number, c.online[at] as number);
    } else {
      // A name's texts are made once and kept for later answers (they depend on the name alone).
      putEntry(out, first, headOf(c.domains[i] as string), tailsOf(c.streams[i] as string)[p] as Words, c.bytes[at] as number, c.online[at] as number);
    }
    first = false;
  });
  return close(out);
}

/**
 * What a reader may keep beside its columns while their names and order stay the same (the SQLite store keeps it
 * with each connection's stream columns): where each group of streams of one (domain, stream) name ends in the
 * order, and each (stream, protocol)'s text up to its bandwidth, made by the first answer listing it. An answer
 * then neither compares names to find the groups nor looks up and copies a domain's and a stream's texts apart.
 */
export interface PlayInfoLayout {
  /** For a position g of the order starting a group: the position after the group's last stream. */
  groupEnd: Int32Array;
  /** '{"play_domain":"<domain>","stream":"<stream>","protocol":"<p>","bandwidth":' of stream i and protocol p at i x P + p. */
  texts: Array<Words | undefined>;
}

/** The layout of columns in `order` (playInfoOrder's), its texts still to make. */
export function playInfoLayout(c: Pick<PlayInfoColumns, 'domains' | 'streams'>, order: Int32Array): PlayInfoLayout {
  const groupEnd = new Int32Array(order.length);
  for (let g = 0; g < order.length; g = groupEnd[g] as number) groupEnd[g] = groupEndAt(c, order, g);
  return { groupEnd, texts: new Array<Words | undefined>(c.streams.length * P) };
}

/**
 * One domain's entries of a minute already in the answer's order (stream, protocol, then app): entry
 * k is stream `streams[k]` of app `apps[k]`, protocol `protocols[k]` (index into AUDIENCE_PROTOCOLS),
 * with `bytes[k]` bytes and `online[k]` viewers. What a store keeps per domain and minute so that an
 * answer is copies, not a sort (the ClickHouse store's play-info blocks).
 */
export interface PlayInfoDomainEntries {
  domain: string;
  apps: readonly string[];
  streams: readonly string[];
  protocols: Uint8Array;
  bytes: Float64Array;
  online: Float64Array;
}

/** Entries of one domain from rows in the answer's order (comparePlayInfo's: stream, protocol, app); rows of other protocols are left out. */
export function domainEntries(domain: string, rows: ReadonlyArray<{ app: string; stream: string; protocol: string; bytes: number; online: number }>): PlayInfoDomainEntries {
  const kept = rows.filter((r) => AUDIENCE_PROTOCOLS.includes(r.protocol as (typeof AUDIENCE_PROTOCOLS)[number]));
  return {
    domain,
    apps: kept.map((r) => r.app),
    streams: kept.map((r) => r.stream),
    protocols: Uint8Array.from(kept, (r) => AUDIENCE_PROTOCOLS.indexOf(r.protocol as (typeof AUDIENCE_PROTOCOLS)[number])),
    bytes: Float64Array.from(kept, (r) => r.bytes),
    online: Float64Array.from(kept, (r) => r.online),
  };
}

/**
 * The answer from domains' entries (`parts`: distinct domains, ascending, each in the answer's order):
 * the bytes renderPlayInfo gives for the same streams (tested), with no sort (an entry of a stream
 * without a name, or with neither bytes nor viewers, is left out as there).
 */
export function renderPlayInfoEntries(minute: number, parts: readonly PlayInfoDomainEntries[]): Uint8Array {
  let room = 64;
  for (const d of parts) room += d.streams.length * (96 + d.domain.length) + d.streams.reduce((n, s) => n + s.length, 0);
  const out = open(room, minute);
  let first = true;
  for (const d of parts) first = putDomainEntries(out, d, first);
  return close(out);
}

/**
 * Writes one domain's listed entries in their order (an entry of a stream without a name, or with neither bytes nor
 * viewers, left out), a comma before each unless `first` and none has been written yet; whether none has been written.
 */
function putDomainEntries(out: JsonBytes, d: PlayInfoDomainEntries, first: boolean): boolean {
  const head = headOf(d.domain);
  for (let k = 0; k < d.streams.length; k++) {
    const stream = d.streams[k] as string;
    const bytes = d.bytes[k] as number;
    const online = d.online[k] as number;
    if (stream === '' || !(bytes > 0 || online > 0)) continue;
    putEntry(out, first, head, tailsOf(stream)[d.protocols[k] as number] as Words, bytes, online);
    first = false;
  }
  return first;
}

/**
 * One domain's listed entries rendered as they stand in the answer's data_list: the entries' objects joined by
 * commas, with no comma before the first or after the last (empty: no entry listed). The text
 * renderPlayInfoEntries writes for the domain, made once per domain and minute by a store that keeps the entries
 * (the ClickHouse store's play-info blocks), so an answer copies each domain's text whole (renderPlayInfoTexts).
 */
export function renderDomainEntries(d: PlayInfoDomainEntries): Uint8Array {
  const out = new JsonBytes(d.streams.length * (96 + d.domain.length) + d.streams.reduce((n, s) => n + s.length, 0) + 8);
  putDomainEntries(out, d, true);
  // A copy of the written bytes only (the renderer's buffer has room to spare and goes back for reuse).
  const text = out.finish().slice();
  giveSpare(out.buf.buffer as ArrayBuffer);
  return text;
}

/**
 * The answer from its domains' texts (renderDomainEntries; `texts` in the answer's order, domains ascending):
 * the bytes renderPlayInfoEntries gives for the same entries (tested). The answer's length is known before
 * a byte is written: its buffer is a spare one of at least that size (json-bytes.ts giveSpare: a sent answer's,
 * given back), else a new one of that size.
 */
export function renderPlayInfoTexts(minute: number, texts: readonly Uint8Array[]): Uint8Array {
  const time = formatUtcSecond(minute);
  let length = OPEN.length + time.length + LIST.length + CLOSE.length;
  let listed = 0;
  for (const t of texts) {
    if (t.length === 0) continue;
    length += t.length;
    listed++;
  }
  length += Math.max(0, listed - 1);
  const bytes = new JsonBytes(length);
  const out = bytes.buf;
  out.set(OPEN, 0);
  let at = OPEN.length;
  for (let i = 0; i < time.length; i++) out[at++] = time.charCodeAt(i);
  out.set(LIST, at);
  at += LIST.length;
  let first = true;
  for (const t of texts) {
    if (t.length === 0) continue;
    if (!first) out[at++] = 44; // ','
    out.set(t, at);
    at += t.length;
    first = false;
  }
  out.set(CLOSE, at);
  at += CLOSE.length;
  if (at !== length) throw new Error(`play-info answer: ${at} bytes written of ${length}`);
  bytes.pos = at;
  return bytes.finish();
}

/** Rows in the answer's order (comparePlayInfo: domain first) as each domain's entries, domains ascending. */
export function entriesByDomain(rows: ReadonlyArray<{ domain: string; app: string; stream: string; protocol: string; bytes: number; online: number }>): PlayInfoDomainEntries[] {
  const out: PlayInfoDomainEntries[] = [];
  for (let g = 0; g < rows.length;) {
    const domain = (rows[g] as { domain: string }).domain;
    let end = g + 1;
    while (end < rows.length && (rows[end] as { domain: string }).domain === domain) end++;
    out.push(domainEntries(domain, rows.slice(g, end)));
    g = end;
  }
  return out;
}
