import type { Isp, Region } from '../../contract/values.js';
import type { QueryOptions } from '../types.js';
import {
  ORIGIN_SLOT_MS, type HistoryFilter, type LiveStreamsFilter, type OriginBatch, type OriginQuery, type PlaySession, type PublishSession,
  type SessionPage, type StreamCountFilter, type UpBandwidthFilter,
} from '../origin.js';
import { coveredSeconds, streamCountSeries } from '../origin-counts.js';
import { num, str, type ChConnection, type ExecOptions, type Row } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList, type SqlValue } from './sql.js';
import { writeUpBytes, type UpBytesWriter } from './origin-batch.js';
import { valuesText } from './values-text.js';

/** Batch ids remembered (the tracker re-sends the one that failed, before any other). */
const MAX_SENT = 1000;

const SESSION_COLUMNS = 'project, id, domain, app, stream, client_ip, type, region, isp, video_codec, audio_codec, frame_rate, bitrate, width, height, start_ms, end_ms, origin, bytes_in, updated_at';
const PLAY_COLUMNS = 'project, id, domain, app, stream, client_ip, region, isp, start_ms, end_ms, updated_at';

const tuple = (values: SqlValue[]): string => '(' + values.map(quote).join(', ') + ')';
const int = (n: number): number => Math.max(0, Math.round(n));

function toSession(r: Row): PublishSession {
  const end = num(r.end_ms);
  return {
    project: str(r.project), id: str(r.id), domain: str(r.domain), app: str(r.app), stream: str(r.stream), clientIp: str(r.client_ip),
    type: num(r.type) === 1 ? 1 : 0, region: str(r.region) as Region, isp: str(r.isp) as Isp, videoCodec: str(r.video_codec),
    audioCodec: str(r.audio_codec), frameRate: num(r.frame_rate), bitrate: num(r.bitrate), width: num(r.width), height: num(r.height),
    start: num(r.start_ms), end: end === 0 ? null : end, origin: str(r.origin), bytesIn: num(r.bytes_in), updatedAt: num(r.updated_at),
  };
}

/**
 * The publish side in ClickHouse (tables of migrations/006_origin.sql). Sessions live in a
 * ReplacingMergeTree read with FINAL (the newest write of an id wins, as on SQLite); the stream
 * count is computed from the sessions by the same function as on SQLite (src/store/origin-counts.ts).
 */
export class ClickHouseOrigin implements OriginQuery {
  constructor(
    private readonly server: ChConnection,
    private readonly names: SchemaNames,
    /** The insert settings, or a function giving them at each write (the store's quorum setting may change). */
    private readonly settings: ExecOptions['settings'] | (() => ExecOptions['settings']) = {},
    private readonly waitUntilFinished: UpBytesWriter['waitUntilFinished'] = async () => undefined,
    private readonly checkQuorum: UpBytesWriter['checkQuorum'] = async () => undefined,
  ) {}

  private get insertSettings(): ExecOptions['settings'] {
    return typeof this.settings === 'function' ? this.settings() : this.settings;
  }

  private t(name: 'origin_sessions' | 'origin_up_bytes' | 'origin_up_domain' | 'origin_plays'): string {
    return table(this.names, name);
  }

  /**
   * Ids of batches sent lately (the newest MAX_SENT): one sent again may find part of it stored
   * (origin-batch.ts), also when this part succeeded and a later one (the audience cells) failed.
   */
  private readonly sent = new Set<string>();

  /**
   * Sessions and plays replace by id (sending them again is harmless); input bytes go through
   * writeUpBytes, exact when the same batch (same id) is sent again after a failure.
   */
  async writeOrigin(batch: OriginBatch): Promise<void> {
    const id = batch.id;
    const retry = id !== undefined && this.sent.has(id);
    if (!retry && id !== undefined) {
      if (this.sent.size >= MAX_SENT) this.sent.delete(this.sent.values().next().value as string);
      this.sent.add(id);
    }
    if (batch.sessions.length > 0) {
      const values = await valuesText(batch.sessions, (s) => tuple([s.project, s.id, s.domain, s.app, s.stream, s.clientIp, s.type, s.region, s.isp,
        s.videoCodec, s.audioCodec, int(s.frameRate), int(s.bitrate), int(s.width), int(s.height), int(s.start), int(s.end ?? 0), s.origin, int(s.bytesIn), int(s.updatedAt)]));
      await this.server.exec(`INSERT INTO ${this.t('origin_sessions')} (${SESSION_COLUMNS}) VALUES ${values}`, { settings: this.insertSettings });
    }
    await writeUpBytes({
      server: this.server, table: (name) => this.t(name), settings: this.insertSettings, waitUntilFinished: this.waitUntilFinished, checkQuorum: this.checkQuorum,
    }, id, batch.upBytes, retry);
    const plays = batch.plays ?? [];
    if (plays.length > 0) {
      // Built in slices (values-text.ts): a poll where every player left ends 317,000 plays at once.
      const values = await valuesText(plays, (p) => tuple([p.project, p.id, p.domain, p.app, p.stream, p.clientIp, p.region, p.isp, int(p.start), int(p.end ?? 0), int(p.updatedAt)]));
      await this.server.exec(`INSERT INTO ${this.t('origin_plays')} (${PLAY_COLUMNS}) VALUES ${values}`, { settings: this.insertSettings });
    }
  }

  /**
   * Sessions of `keys` (conditions on columns a session never changes: project, domain, app,
   * stream, start), then `open` on the merged rows: a condition on end_ms inside FINAL's query could
   * be moved to PREWHERE and see a session's older row (ClickHouse 18.16).
   */
  private sessions(keys: string[], open: string): string {
    return `(SELECT ${SESSION_COLUMNS} FROM (SELECT ${SESSION_COLUMNS} FROM ${this.t('origin_sessions')} FINAL WHERE ${keys.join(' AND ')}) WHERE ${open})`;
  }

  private async page(from: string, f: { offset: number; limit: number }, signal?: AbortSignal): Promise<SessionPage> {
    const total = num((await this.server.rows(`SELECT count() AS n FROM ${from}`, signal))[0]?.n ?? 0);
    const rows = await this.server.rows(`SELECT * FROM ${from} ORDER BY start_ms DESC, id LIMIT ${quote(f.offset * f.limit)}, ${quote(f.limit)}`, signal);
    return { total, sessions: rows.map(toSession) };
  }

  private streamWhere(c: string[], app: string | undefined, stream: string | undefined): void {
    if (app !== undefined) c.push(`app = ${quote(app)}`);
    if (stream !== undefined) c.push(`stream = ${quote(stream)}`);
  }

  liveStreams(f: LiveStreamsFilter, o: QueryOptions = {}): Promise<SessionPage> {
    const c = [`project = ${quote(f.project)}`, `domain = ${quote(f.domain)}`];
    this.streamWhere(c, f.app, f.stream);
    return this.page(this.sessions(c, 'end_ms = 0'), f, o.signal);
  }

  private keys(project: string, domains: string[], to: number): string[] {
    return [`project = ${quote(project)}`, `domain IN ${quoteList(domains)}`, `start_ms < ${quote(to)}`];
  }

  private static overlapping(from: number): string {
    return `(end_ms = 0 OR end_ms > ${quote(from)})`;
  }

  async historySessions(f: HistoryFilter, o: QueryOptions = {}): Promise<SessionPage> {
    if (f.domains.length === 0 || f.to <= f.from) return { total: 0, sessions: [] };
    const c = this.keys(f.project, f.domains, f.to);
    this.streamWhere(c, f.app, f.stream);
    return this.page(this.sessions(c, ClickHouseOrigin.overlapping(f.from)), f, o.signal);
  }

  async streamCounts(f: StreamCountFilter, o: QueryOptions = {}): Promise<Float64Array> {
    const now = f.now ?? Date.now();
    if (f.domains.length === 0 || f.to <= f.from) return new Float64Array(Math.max(0, Math.floor((f.to - f.from) / ORIGIN_SLOT_MS)));
    const rows = await this.server.rows(`SELECT domain, start_ms, end_ms FROM ${this.sessions(this.keys(f.project, f.domains, f.to), ClickHouseOrigin.overlapping(f.from))}`, o.signal);
    const spans = rows.map((r) => ({ domain: str(r.domain), start: num(r.start_ms), end: num(r.end_ms) === 0 ? null : num(r.end_ms) }));
    return streamCountSeries(spans, f.from, f.to, now);
  }

  /** push_duration of a portrait: seconds of the UTC day covered by sessions of the stream name on any publish domain and app of the project. */
  async pushSeconds(project: string, stream: string, day: number, now: number, o: QueryOptions = {}): Promise<number> {
    const keys = [`project = ${quote(project)}`, `stream = ${quote(stream)}`, `start_ms < ${quote(day + 86_400_000)}`];
    const rows = await this.server.rows(`SELECT start_ms, end_ms FROM ${this.sessions(keys, ClickHouseOrigin.overlapping(day))}`, o.signal);
    return coveredSeconds(rows.map((r) => ({ start: num(r.start_ms), end: num(r.end_ms) === 0 ? null : num(r.end_ms) })), day, now);
  }

  async upBytesSeries(f: UpBandwidthFilter, o: QueryOptions = {}): Promise<Float64Array> {
    const count = Math.max(0, Math.floor((f.to - f.from) / f.slotMs));
    const out = new Float64Array(count);
    if (count === 0 || f.domains.length === 0) return out;
    const c = [`project = ${quote(f.project)}`, `domain IN ${quoteList(f.domains)}`, `slot >= ${quote(Math.floor(f.from / ORIGIN_SLOT_MS))}`,
      `slot < ${quote(Math.ceil(f.to / ORIGIN_SLOT_MS))}`, `type = ${quote(f.type)}`];
    this.streamWhere(c, f.app, f.stream);
    if (f.regions.length > 0) c.push(`region IN ${quoteList(f.regions)}`);
    if (f.isps.length > 0) c.push(`isp IN ${quoteList(f.isps)}`);
    const per = f.slotMs / ORIGIN_SLOT_MS;
    const first = f.from / f.slotMs;
    const from = f.app === undefined && f.stream === undefined ? this.t('origin_up_domain') : this.t('origin_up_bytes');
    const rows = await this.server.rows(`SELECT intDiv(slot, ${quote(per)}) AS s, sum(bytes) AS b FROM ${from}
      WHERE ${c.join(' AND ')} GROUP BY s`, o.signal);
    for (const r of rows) {
      const i = num(r.s) - first;
      if (i >= 0 && i < count) out[i] = num(r.b);
    }
    return out;
  }

  async openSessions(o: QueryOptions = {}): Promise<PublishSession[]> {
    const rows = await this.server.rows(`SELECT ${SESSION_COLUMNS} FROM (SELECT ${SESSION_COLUMNS} FROM ${this.t('origin_sessions')} FINAL)
      WHERE end_ms = 0 ORDER BY project, start_ms, id`, o.signal);
    return rows.map(toSession);
  }

  playSessions(project: string, from: number, to: number, o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.plays(`(SELECT ${PLAY_COLUMNS} FROM ${this.t('origin_plays')} FINAL
      WHERE project = ${quote(project)} AND start_ms < ${quote(to)}) WHERE ${ClickHouseOrigin.overlapping(from)} ORDER BY start_ms, id`, o);
  }

  openPlays(o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.plays(`(SELECT ${PLAY_COLUMNS} FROM ${this.t('origin_plays')} FINAL) WHERE end_ms = 0 ORDER BY project, start_ms, id`, o);
  }

  private async plays(from: string, o: QueryOptions): Promise<PlaySession[]> {
    const rows = await this.server.rows(`SELECT ${PLAY_COLUMNS} FROM ${from}`, o.signal);
    return rows.map((r): PlaySession => {
      const end = num(r.end_ms);
      return {
        project: str(r.project), id: str(r.id), domain: str(r.domain), app: str(r.app), stream: str(r.stream), clientIp: str(r.client_ip),
        region: str(r.region) as Region, isp: str(r.isp) as Isp, start: num(r.start_ms), end: end === 0 ? null : end, updatedAt: num(r.updated_at),
      };
    });
  }
}
