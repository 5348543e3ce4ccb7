import { CellCounter, type CellBatch } from './cells.js';
import { clientAddress } from './client-ip.js';
import type { GeoResolver } from './geo/resolver.js';
import { hostOfRequest, DomainNormalizer } from './host.js';
import type { NameGate } from './name-limits.js';
import { MAX_LINE_BYTES, newParsedLine, resetParsedLine, type DropReason, type LineParser, type ParsedLine } from './formats/types.js';
import { isPrivateIpv4, parseIpv4 } from './geo/ipv4.js';
import { emptyNotes, noteClient, sampleOf, type IngestNotes } from './notes.js';
import { ipTypeOf } from './traffic/ip-type.js';
import { requestTargetSpan } from './traffic/request-target.js';
import { SCAN_OTHER, SCAN_SLOW, scanStreamTarget, type ScanRanges } from './traffic/stream-scan.js';
import { streamOfUri } from './traffic/stream-uri.js';
import { IP_TYPE_CODES, PROTOCOL_CODES, TrafficCounter } from './traffic/traffic-counter.js';
import { AUDIENCE_FLV, AUDIENCE_HLS, AudienceCounter, type AudienceNote } from './audience/audience-counter.js';

const PROTOCOL_NUMBER = new Map<string, number>(PROTOCOL_CODES.map((p, i) => [p, i]));
const IP_TYPE_NUMBER = new Map<string, number>(IP_TYPE_CODES.map((p, i) => [p, i]));
const IP_V4 = IP_TYPE_NUMBER.get('v4') as number;
const OTHER_PROTOCOL = PROTOCOL_NUMBER.get('other') as number;
const FLV_PROTOCOL = PROTOCOL_NUMBER.get('flv') as number;
const HLS_PROTOCOL = PROTOCOL_NUMBER.get('hls') as number;
const IP_OTHER = IP_TYPE_NUMBER.get('other') as number;
/** Audience entries held before the processor hands its cells on (bounds memory like the traffic counter's limit). */
const AUDIENCE_FLUSH = 1_000_000;
const FAMILY_CACHE_LIMIT = 50_000;

export const FUTURE_TOLERANCE_MS = 5 * 60_000;
const DAY = 86_400_000;

/** Counts of one ingest run: lines seen, accepted, and dropped per reason. */
export interface IngestStats {
  lines: number;
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
  /** Accepted lines whose audience part was cut or left out, per reason (src/ingest/audience/audience-counter.ts); absent: none. */
  audience?: Partial<Record<AudienceNote, number>>;
}

export const emptyStats = (): IngestStats => ({ lines: 0, accepted: 0, dropped: {} });

export function mergeStats(into: IngestStats, from: IngestStats): void {
  into.lines += from.lines;
  into.accepted += from.accepted;
  for (const [k, v] of Object.entries(from.dropped) as Array<[DropReason, number]>) {
    into.dropped[k] = (into.dropped[k] ?? 0) + v;
  }
  if (from.audience) {
    const a = (into.audience ??= {});
    for (const [k, v] of Object.entries(from.audience) as Array<[AudienceNote, number]>) a[k] = (a[k] ?? 0) + v;
  }
}

export interface ProcessorOptions {
  parser: LineParser;
  geo: GeoResolver;
  retentionDays: number;
  now?: () => number;
  /** Input is decoded with text() (latin1 for log_format parsers): set by owners that read bytes. */
  latin1Input?: boolean;
  /** Receives pre-aggregated cells whenever flushCells() is called or the counter is full. */
  sink: (cells: CellBatch) => void;
  /** The per-project bounds on new domains and streams (absent: none). */
  names?: NameGate;
  /** The domain of lines that log no host and no absolute URL (`ingest --domain`); absent: they are bad_domain. */
  defaultDomain?: string;
  /** false: no audience cube input (bench/ingest/audience-cost.ts measures its cost against this); default true. */
  audience?: boolean;
}

/**
 * One line -> ok or drop(reason): parse, status, time (bad / beyond retention / future),
 * domain, client address -> geo, then a pre-aggregated cell. Never throws on input.
 */
export class LineProcessor {
  readonly cells = new CellCounter();
  /** The same lines as traffic cells (domain, app, stream, protocol, geo, ip type, 5 minutes). */
  readonly traffic = new TrafficCounter();
  /** The same lines' audience part: FLV sessions, HLS viewers, daily users (audience-api.md). */
  readonly audience = new AudienceCounter();
  stats: IngestStats = emptyStats();
  /** One sample line per drop reason and what the client addresses looked like (src/ingest/notes.ts). */
  notes: IngestNotes = emptyNotes();
  /** Time given to lines whose format logs no time (syslog and HTTP intake: receive time); NaN = drop. */
  fallbackTime = NaN;
  private readonly out = newParsedLine();
  private readonly ranges: ScanRanges = { appStart: 0, appEnd: 0, streamStart: 0, streamEnd: 0 };
  private readonly span = { start: 0, end: 0 };
  /** Address family of addresses that are not dotted-quad IPv4 (IPv6 parsing is costly). */
  private families = new Map<string, number>();
  private readonly domains: DomainNormalizer;
  private readonly latin1: boolean;
  private readonly now: () => number;
  private oldest = 0;
  private newest = 0;
  /** The last domain the name gate admitted (lines of one domain come in runs: one check per run). */
  private admitted = '';
  private streamRefusal: DropReason | undefined;
  private readonly audienceOn: boolean;

  constructor(private readonly options: ProcessorOptions) {
    this.now = options.now ?? Date.now;
    this.audienceOn = options.audience !== false;
    const gate = options.names;
    if (gate) {
      this.traffic.admit = (domain, app, stream) => {
        this.streamRefusal = gate.stream(domain, app, stream);
        return this.streamRefusal === undefined;
      };
    }
    this.latin1 = options.latin1Input === true && options.parser.encoding === 'latin1';
    this.domains = new DomainNormalizer(this.latin1);
    this.refreshClock();
  }

  /** Decodes input bytes the way this processor expects them (see latin1Input). */
  text(buf: Buffer, start = 0, end = buf.length): string {
    return buf.toString(this.latin1 ? 'latin1' : 'utf8', start, end);
  }

  /** Re-reads the clock for the retention/future checks (call per chunk, not per line). */
  refreshClock(): void {
    const now = this.now();
    this.oldest = now - this.options.retentionDays * DAY;
    this.newest = now + FUTURE_TOLERANCE_MS;
  }

  /** Handles one line (no trailing newline); returns undefined when it was counted. */
  process(line: string): DropReason | undefined {
    this.stats.lines++;
    const reason = this.step(line);
    if (reason === undefined) this.stats.accepted++;
    else {
      this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
      if (this.notes.samples[reason] === undefined) this.notes.samples[reason] = sampleOf(line, this.latin1);
    }
    return reason;
  }

  /** Hands everything counted so far to the sink. */
  flushCells(): void {
    if (this.cells.size === 0 && this.traffic.size === 0 && this.audience.size === 0) return;
    const batch = this.cells.drain();
    const traffic = this.traffic.drain();
    batch.traffic = traffic;
    if (this.audience.size > 0) batch.audience = this.audience.drain(traffic.domains, traffic.apps, traffic.streams);
    this.options.sink(batch);
  }

  /** Takes the stats so far and starts counting anew. */
  takeStats(): IngestStats {
    const s = this.stats;
    this.stats = emptyStats();
    return s;
  }

  /** Takes the notes so far and starts anew. */
  takeNotes(): IngestNotes {
    const n = this.notes;
    this.notes = emptyNotes();
    return n;
  }

  /** What the last processed line parsed into (ingest --dry-run shows it). */
  get parsed(): Readonly<ParsedLine> {
    return this.out;
  }

  private step(line: string): DropReason | undefined {
    const p = this.out;
    resetParsedLine(p);
    if (line.length > 65_536) return 'parse';
    let parseFailure: DropReason | undefined;
    try {
      parseFailure = this.options.parser.parse(line, p);
    } catch {
      // A parser bug must not stop ingestion: the line is dropped like any unparseable one.
      return 'parse';
    }
    if (parseFailure) return parseFailure;
    const code = statusCode(p.status);
    if (code < 0) return 'bad_status';
    if (p.badTime) return 'bad_time';
    let time = p.time;
    if (Number.isNaN(time)) {
      if (Number.isNaN(this.fallbackTime)) return 'bad_time';
      time = this.fallbackTime;
    }
    if (time < this.oldest) return 'too_old';
    if (time > this.newest) return 'future';
    let rawHost = p.host !== '' ? p.host : hostOfRequest(p.request);
    if (rawHost === '' && this.options.defaultDomain !== undefined) rawHost = this.options.defaultDomain;
    if (rawHost === '') return 'bad_domain';
    const domain = this.domains.normalize(rawHost);
    if (domain === '') return 'bad_domain';
    const address = clientAddress(p.remoteAddr, p.forwardedFor);
    const v4 = parseIpv4(address);
    const geo = v4 >= 0 ? this.options.geo.lookupV4(address, v4) : this.options.geo.lookup(address);
    const ipType = v4 >= 0 ? IP_V4 : this.family(address);
    // Until one client is located, note whether addresses are private and unlocated (behind a proxy?).
    if (!this.notes.located) noteClient(this.notes, address, v4 >= 0 ? isPrivateIpv4(v4) : undefined, geo);
    const bytes = bytesOf(p.bytes, p.bodyBytes);
    if (bytes < 0) return 'bad_bytes';
    const gate = this.options.names;
    if (gate !== undefined && domain !== this.admitted) {
      const refused = gate.domain(domain);
      if (refused !== undefined) return refused;
      this.admitted = domain;
    }
    if (this.traffic.full || this.audience.size > AUDIENCE_FLUSH) this.flushCells();
    // The stream first: a line naming a stream beyond its project's cap is dropped whole.
    let tuple = this.tupleOfLine(p, domain);
    if (tuple < 0) return this.streamRefusal ?? 'stream_limit';
    if (!this.cells.add(domain, time, geo, code, 1, bytes)) {
      this.flushCells();
      this.cells.add(domain, time, geo, code, 1, bytes);
      tuple = this.tupleOfLine(p, domain);
    }
    this.traffic.addTuple(tuple, this.protocol, time, geo, ipType, bytes);
    if ((this.protocol === FLV_PROTOCOL || this.protocol === HLS_PROTOCOL) && this.audienceOn) this.countAudience(tuple, time, geo, address, v4, ipType, bytes, p.requestTime);
    return undefined;
  }

  private note(n: AudienceNote): void {
    const a = (this.stats.audience ??= {});
    a[n] = (a[n] ?? 0) + 1;
  }

  /** The audience part of a stream line: an FLV session or an HLS viewer, and the day's user. */
  private countAudience(tuple: number, time: number, geo: number, address: string, v4: number, ipType: number, bytes: number, requestTime: number): void {
    const a = this.audience;
    if (this.protocol === FLV_PROTOCOL) {
      let ms = 0;
      if (Number.isNaN(requestTime)) this.note('no_request_time');
      else if (!(requestTime >= 0) || requestTime === Infinity) this.note('bad_request_time');
      else ms = Math.round(requestTime * 1000);
      if (time - ms < this.oldest) {
        ms = Math.max(0, time - this.oldest);
        this.note('span_cut');
      }
      a.session(tuple, AUDIENCE_FLV, geo, time, ms, bytes);
    } else {
      a.line(tuple, AUDIENCE_HLS, geo, Math.floor(time / 60_000), bytes);
    }
    if (ipType === IP_OTHER || address === '') {
      this.note('no_client_ip');
      return;
    }
    // A viewer already in this batch's (stream, minute) was made a user of that day with it.
    if (this.protocol === HLS_PROTOCOL && !a.viewer(tuple, Math.floor(time / 60_000), address, geo, v4)) return;
    a.user(tuple, time, address, v4);
  }

  private protocol = 0;

  /** The traffic tuple of a line (its protocol in this.protocol); -1 when the name gate refused its stream. */
  private tupleOfLine(p: ParsedLine, domain: string): number {
    // The stream: read in place from the line for plain targets, else through streamOfUri.
    let target = p.uri;
    const span = this.span;
    span.start = 0;
    span.end = target.length;
    if (target === '') {
      target = p.request;
      if (!requestTargetSpan(target, span)) span.end = span.start;
    }
    const { start: from, end: to } = span;
    const r = this.ranges;
    let protocol = from < to ? scanStreamTarget(target, from, to, r) : SCAN_OTHER;
    let tuple: number;
    if (protocol === SCAN_SLOW) {
      const s = streamOfUri(target.slice(from, to));
      protocol = PROTOCOL_NUMBER.get(s.protocol) as number;
      tuple = this.traffic.tupleOf(domain, s.app, s.stream);
    } else if (protocol === SCAN_OTHER) {
      protocol = OTHER_PROTOCOL;
      tuple = this.traffic.tupleOf(domain, '', '');
    } else {
      tuple = this.traffic.tupleOfRanges(domain, target, r.appStart, r.appEnd, r.streamStart, r.streamEnd);
    }
    this.protocol = protocol;
    return tuple;
  }

  private family(address: string): number {
    let f = this.families.get(address);
    if (f === undefined) {
      f = IP_TYPE_NUMBER.get(ipTypeOf(address)) as number;
      if (this.families.size >= FAMILY_CACHE_LIMIT) this.families = new Map();
      this.families.set(address, f);
    }
    return f;
  }
}

/**
 * $bytes_sent, else $body_bytes_sent, else 0 (also for a value that is not a whole number >= 0);
 * -1 (the line is dropped as `bad_bytes`) for a whole number above MAX_LINE_BYTES.
 */
export function bytesOf(bytesSent: number, bodyBytes: number): number {
  const v = bytesSent >= 0 ? bytesSent : bodyBytes >= 0 ? bodyBytes : 0;
  if (v > MAX_LINE_BYTES && (Number.isInteger(v) || v === Infinity)) return -1;
  return Number.isSafeInteger(v) ? v : 0;
}

/** "200" -> 200; -1 unless exactly three digits in 100..599. */
export function statusCode(s: string): number {
  if (s.length !== 3) return -1;
  const a = s.charCodeAt(0) - 48;
  const b = s.charCodeAt(1) - 48;
  const c = s.charCodeAt(2) - 48;
  if (a < 1 || a > 5 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  return a * 100 + b * 10 + c;
}
