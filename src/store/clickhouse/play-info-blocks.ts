import { domainEntries, entriesByDomain, renderDomainEntries, renderPlayInfoTexts, type PlayInfoDomainEntries } from '../../contract/audience/play-info-body.js';
import { AUDIENCE_PROTOCOLS, comparePlayInfo, type AudienceProtocol, type PlayInfoFilter, type PlayInfoRow } from '../audience.js';
import { giveSpare } from '../../contract/json-bytes.js';
import { AUDIENCE_BLOCK_MINUTES } from '../audience-flv.js';
import { BlockCache, EMPTY_STAMP, readStamps, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import { num, str, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { HOUR_STAMPS, stampKey, StampReads } from './stamp-reads.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const MINUTES = 60;
/**
 * Play-info rows kept at most, all blocks together (~100 bytes each, and up to ~100 more once a minute's text is made;
 * a head domain's hour at the dense bench's density is ~12,000).
 */
const MAX_ROWS = 1_000_000;
/**
 * How long at most a stamps read waits, after one returned, for the clients just answered to ask again (SharedReads'
 * holdMs, as the portraits of closed days): the play-info load of the dense bench (10 connections) then shares each
 * read among more answers. Same run against no hold (ch-cheap-rows --rows playinfo, 3 rounds, load 5-6): stamps
 * reads per answer 0.20 -> 0.12-0.13, clickhouse-server CPU per answer 267-288 -> 163-182 µs, main thread 370-385 ->
 * 271-315 µs, 908-1,216 -> 1,244-1,507 req/s (ahead in all 3 rounds), p99 27-42 -> 18-26 ms.
 */
export const PLAY_INFO_STAMPS_HOLD_MS = 2;

interface Block extends StampedBlock {
  /** Per minute of the hour, the minute's play-info rows of the domain (bytes or viewers) in the answer's order (stream, protocol, app). */
  minutes: PlayInfoDomainEntries[];
  /** Per minute of the hour, its entries' text in the answer (renderDomainEntries), made by the first answer that needs it. */
  texts: Array<Uint8Array | undefined>;
  rows: number;
}

/** The domains' entries of a minute an answer uses: from current blocks (with the minute's index in them) and by SQL. */
interface MinuteParts {
  blocks: Array<{ block: Block; at: number }>;
  sql: PlayInfoDomainEntries[];
}

const byDomain = (a: { domain: string }, b: { domain: string }): number => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0);

/**
 * Closed hours of each domain's play-info rows kept in this node's memory, per (project, domain,
 * hour): for every minute of the hour, each (app, stream, protocol) with its bytes and online viewers
 * as ClickHouseAudience.playInfo computes them (the cells, the FLV/RTMP sessions open from the
 * quarter-hour's start, the distinct HLS IPs), kept in the answer's order (PlayInfoDomainEntries: sorted
 * once when built). So play-info of a closed minute (10 domains, 1,000 live streams) is a lookup per
 * domain, not three aggregations in ClickHouse, and its bytes are the domains' minute texts copied whole
 * (each rendered from its entries once and kept with its block: body), not a sort and JSON of row objects.
 * The stamps are the audience
 * blocks' (migration 014, per (project, domain, hour)) and the rule is theirs (audience-blocks.ts): a
 * block kept only when the stamps before and after its rows agree, used only when its stamp is current.
 * Domains without a current block are read by SQL (and their blocks built in the background); a
 * minute of an hour not closed yet, or a query for every domain of the project, by SQL.
 */
export class PlayInfoBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];
  /** The minutes' texts of answers from blocks: rendered (the first answer of a block's minute) and copied as kept. */
  readonly textStats = { rendered: 0, kept: 0 };
  /** The answers `body` rendered, until they are given back (release). */
  private readonly rendered = new WeakSet<Uint8Array>();

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.cache = new BlockCache<Block>(new StampReads(server, table(names, 'audience_stamps'), 'domain', 1, HOUR_STAMPS, PLAY_INFO_STAMPS_HOLD_MS), options, MAX_ROWS, (b) => b.rows);
    this.stats = this.cache.stats;
  }

  private t(name: string): string {
    return table(this.names, name);
  }

  /** The play-info rows from blocks, with `bySql(domains)` for the domains without a current block; undefined: the whole query by SQL. */
  async playInfo(f: PlayInfoFilter, bySql: (domains: string[]) => Promise<PlayInfoRow[]>, signal?: AbortSignal, now = Date.now()): Promise<PlayInfoRow[] | undefined> {
    const parts = await this.entries(f, bySql, signal, now);
    if (parts === undefined) return undefined;
    const out: PlayInfoRow[] = [];
    for (const d of parts) {
      for (let k = 0; k < d.streams.length; k++) {
        out.push({ domain: d.domain, app: d.apps[k] as string, stream: d.streams[k] as string, protocol: AUDIENCE_PROTOCOLS[d.protocols[k] as number] as AudienceProtocol,
          bytes: d.bytes[k] as number, online: d.online[k] as number });
      }
    }
    return out;
  }

  /**
   * The minute's entries per domain (domains ascending, each in the answer's order: renderPlayInfoEntries
   * renders them without a sort) from blocks, with `bySql(domains)` for the domains without a current
   * block; undefined: the whole query by SQL.
   */
  async entries(f: PlayInfoFilter, bySql: (domains: string[]) => Promise<PlayInfoRow[]>, signal?: AbortSignal, now = Date.now()): Promise<PlayInfoDomainEntries[] | undefined> {
    const parts = await this.parts(f, bySql, signal, now);
    if (parts === undefined) return undefined;
    return [...parts.blocks.map(({ block, at }) => block.minutes[at] as PlayInfoDomainEntries), ...parts.sql].sort(byDomain);
  }

  /**
   * The answer's bytes (renderPlayInfoTexts): each domain with a current block copies the minute's text its block
   * keeps (rendered once, by the first answer that needs it: it depends on the block's entries alone, and a block is
   * used only while its stamp is current, as the entries are), the domains read by SQL are rendered here; undefined:
   * the whole query by SQL. The bytes renderPlayInfoEntries gives over `entries` (tested).
   */
  async body(f: PlayInfoFilter, bySql: (domains: string[]) => Promise<PlayInfoRow[]>, signal?: AbortSignal, now = Date.now()): Promise<Uint8Array | undefined> {
    const parts = await this.parts(f, bySql, signal, now);
    if (parts === undefined) return undefined;
    const texts = parts.blocks.map(({ block, at }) => {
      const e = block.minutes[at] as PlayInfoDomainEntries;
      let text = block.texts[at];
      if (text === undefined) {
        block.texts[at] = text = renderDomainEntries(e);
        this.textStats.rendered++;
      } else this.textStats.kept++;
      return { domain: e.domain, text };
    });
    for (const e of parts.sql) texts.push({ domain: e.domain, text: renderDomainEntries(e) });
    const out = renderPlayInfoTexts(f.minute, texts.sort(byDomain).map((t) => t.text));
    if (out.buffer instanceof ArrayBuffer) this.rendered.add(out);
    return out;
  }

  /**
   * A body from `body` has been sent whole (ClickHouseStore.releaseBody): its buffer is reused by the next rendering
   * (json-bytes.ts giveSpare) instead of ~200 KB of new external memory per answer. Anything else (another answer's
   * bytes, a body given twice, even once its memory is a later answer's: answers are known by view, not by buffer) is
   * left alone.
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (!this.rendered.delete(bytes) || !(buffer instanceof ArrayBuffer)) return;
    giveSpare(buffer);
  }

  private async parts(f: PlayInfoFilter, bySql: (domains: string[]) => Promise<PlayInfoRow[]>, signal: AbortSignal | undefined, now: number): Promise<MinuteParts | undefined> {
    if (this.cache.closed || f.domains.length === 0 || f.minute % MIN !== 0) return undefined;
    const hour = Math.floor(f.minute / HOUR);
    if ((hour + 1) * HOUR > now - this.cache.closedAfterMs) return undefined;
    const domains = [...new Set(f.domains)];
    const stamps = await this.cache.stampReads.read(f.project, domains, hour, hour + 1);
    if (signal?.aborted) return undefined;
    const stale = domains.filter((d) => !this.cache.current(stampKey(f.project, d, hour), stamps, now));
    if (stale.length > 0) this.schedule(f.project, stale, hour);
    if (stale.length === domains.length) {
      this.stats.bySql++;
      return undefined;
    }
    // The current domains' blocks first, those the stamps read confirmed, before this answer waits for SQL (a build
    // that ends meanwhile may replace or drop some of them).
    const at = Math.floor(f.minute / MIN) - hour * MINUTES;
    const blocks: MinuteParts['blocks'] = [];
    for (const d of domains) {
      if (stale.includes(d)) continue;
      const block = this.cache.get(stampKey(f.project, d, hour)) as Block;
      const e = block.minutes[at];
      if (e !== undefined && e.streams.length > 0) blocks.push({ block, at });
    }
    // The stale domains' rows come back in comparePlayInfo's order (domain first).
    const sql = stale.length > 0 ? entriesByDomain(await bySql(stale)) : [];
    this.cache.answered(stale.length);
    return { blocks, sql };
  }

  private schedule(project: string, stale: string[], hour: number): void {
    const domains = stale.filter((d) => this.cache.claim(stampKey(project, d, hour)));
    if (domains.length === 0) return;
    this.cache.enqueue(() => this.build(project, domains, hour), () => domains.map((d) => stampKey(project, d, hour)));
  }

  /** Builds the blocks of `domains` in `hour`: kept for each domain whose stamp did not change meanwhile. */
  private async build(project: string, domains: string[], hour: number): Promise<void> {
    if (this.cache.closed) return;
    const stamps = (): Promise<Map<string, string>> => readStamps(this.server, this.t('audience_stamps'), project, domains, hour, hour + 1);
    const before = await stamps();
    const from = hour * MINUTES;
    const where = `project = ${quote(project)} AND domain IN ${quoteList(domains)} AND minute >= ${quote(from)} AND minute < ${quote(from + MINUTES)}`;
    const [cells, sessions, hls] = await Promise.all([
      this.server.rows(`SELECT domain, minute, app, stream, protocol, sum(bytes) AS b, sum(viewers) AS v FROM ${this.t('audience_cells')}
        WHERE ${where} AND batch = '' GROUP BY domain, minute, app, stream, protocol`),
      this.server.rows(`SELECT domain, minute, app, stream, protocol, sum(opens) AS o, sum(closes) AS c FROM ${this.t('audience_sessions')}
        WHERE ${where} AND batch = '' GROUP BY domain, minute, app, stream, protocol`),
      this.server.rows(`SELECT domain, minute, app, stream, uniqExact(ip) AS v FROM ${this.t('audience_hls')}
        WHERE ${where} GROUP BY domain, minute, app, stream`),
    ]);
    const after = await stamps();
    // Per (domain, minute of the hour): the rows by (app, stream, protocol), as playInfo adds them up.
    const byMinute = new Map<string, Array<Map<string, PlayInfoRow>>>();
    const entry = (domain: string, i: number, app: string, stream: string, protocol: AudienceProtocol): PlayInfoRow => {
      let ms = byMinute.get(domain);
      if (!ms) byMinute.set(domain, (ms = Array.from({ length: MINUTES }, () => new Map<string, PlayInfoRow>())));
      const m = ms[i] as Map<string, PlayInfoRow>;
      const k = JSON.stringify([app, stream, protocol]);
      let e = m.get(k);
      if (!e) m.set(k, (e = { domain, app, stream, protocol, bytes: 0, online: 0 }));
      return e;
    };
    for (const r of cells) {
      const e = entry(str(r.domain), num(r.minute) - from, str(r.app), str(r.stream), str(r.protocol) as AudienceProtocol);
      e.bytes += num(r.b);
      e.online += num(r.v);
    }
    // FLV/RTMP sessions open in a minute: opens - closes from its quarter-hour's start to it (audience-flv.ts).
    const deltas = new Map<string, { domain: string; app: string; stream: string; protocol: AudienceProtocol; d: Float64Array; any: Uint8Array }>();
    for (const r of sessions) {
      const [domain, app, stream, protocol] = [str(r.domain), str(r.app), str(r.stream), str(r.protocol) as AudienceProtocol];
      const k = JSON.stringify([domain, app, stream, protocol]);
      let s = deltas.get(k);
      if (!s) deltas.set(k, (s = { domain, app, stream, protocol, d: new Float64Array(MINUTES), any: new Uint8Array(MINUTES) }));
      const i = num(r.minute) - from;
      s.d[i] = (s.d[i] as number) + num(r.o) - num(r.c);
      s.any[i] = 1;
    }
    for (const s of deltas.values()) {
      let open = 0;
      let seen = false;
      for (let i = 0; i < MINUTES; i++) {
        if (i % AUDIENCE_BLOCK_MINUTES === 0) {
          open = 0;
          seen = false;
        }
        open += s.d[i] as number;
        seen ||= s.any[i] === 1;
        if (seen) entry(s.domain, i, s.app, s.stream, s.protocol).online += open;
      }
    }
    for (const r of hls) entry(str(r.domain), num(r.minute) - from, str(r.app), str(r.stream), 'hls').online += num(r.v);
    const now = Date.now();
    for (const d of domains) {
      const k = stampKey(project, d, hour);
      if (before.get(k) !== after.get(k)) {
        this.stats.discarded++;
        continue;
      }
      const ms = byMinute.get(d);
      // Sorted once here: an answer copies the entries of each domain in order.
      const minutes = Array.from({ length: MINUTES }, (_, i) => domainEntries(d, [...(ms?.[i]?.values() ?? [])].filter((e) => e.bytes > 0 || e.online > 0).sort(comparePlayInfo)));
      this.cache.put(k, { stamp: before.get(k) ?? EMPTY_STAMP, builtAt: now, minutes, texts: [], rows: Math.max(1, minutes.reduce((n, m) => n + m.streams.length, 0)) });
    }
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
