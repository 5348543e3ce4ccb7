import { comparePlayInfo, type AudienceProtocol, type PlayInfoFilter, type PlayInfoRow, type PortraitDay, type PortraitFilter, type ProjectAudience, type UsersFilter, type AudienceQuery } from '../audience.js';
import { addSessionViewers, blockStart } from '../audience-flv.js';
import type { QueryOptions } from '../types.js';
import { domainWide, type AudienceBlocks, type AudienceUsersBlocks, type DomainMinutes } from './audience-blocks.js';
import { CHUNK_ROWS, slices } from './batch.js';
import type { PlayInfoBlocks } from './play-info-blocks.js';
import { entriesByDomain, renderPlayInfoEntries } from '../../contract/audience/play-info-body.js';
import type { PortraitDays } from './portrait-days.js';
import { num, settled, str, type ChConnection, type ExecOptions } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList, TsvBytes } from './sql.js';
import { AudienceRows } from './audience-rows.js';
import type { UsersBodies } from './users-bodies.js';
import type { UsersPart } from './users-parts.js';
import { renderUsers } from '../../contract/audience/users-body.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const DAY_MINUTES = 1440;

export const AUDIENCE_TABLES = ['audience_cells', 'audience_sessions', 'audience_hls', 'audience_users', 'audience_stamps', 'audience_users_stamps', 'audience_day_stamps'] as const;
type AudienceTable = (typeof AUDIENCE_TABLES)[number];

const tuple = (values: Array<string | number>): string => '(' + values.map(quote).join(', ') + ')';

/** The reads of AudienceQuery (retention is the store's: it drops partitions). */
type AudienceQueryReads = Omit<AudienceQuery, 'deleteAudienceBefore'>;

/** The two additive tables, each written retry-safe with its own markers. */
const ADDITIVE = {
  audience_cells: { tag: 'a', columns: 'viewers, bytes, requests, play_ms, markers', marker: '0\t0\t0\t0\t1' },
  audience_sessions: { tag: 's', columns: 'opens, closes, markers', marker: '0\t0\t1' },
} as const;

interface Group {
  project: string;
  /** Epoch minute of the day's start: the marker row's minute. */
  dayMinute: number;
  /** Positions of its rows in the table's row references (audience-rows.ts). */
  rows: number[];
}

/**
 * The audience cube in ClickHouse (migrations/005_audience.sql). The additive cells are written
 * retry-safe like the traffic cube (a marker per chunk, project and day partition, in the same
 * INSERT); HLS viewers and users are rows whose repeats count once (reads count distinct), so a
 * retry may insert them again. Reads answer AudienceQuery exactly as the SQLite store does.
 */
export class ClickHouseAudience implements AudienceQueryReads {
  constructor(
    private readonly server: ChConnection,
    private readonly names: SchemaNames,
    private readonly waitUntilFinished: (queryIds: string[]) => Promise<void> = async () => undefined,
    /** The settings of each insert, asked at each write (the store's may change), as ClickHouseTraffic does. */
    private readonly insertSettings: () => ExecOptions['settings'] = () => ({}),
    /** Replicated layout: fails unless the markers an earlier attempt left are on the insert quorum (see ClickHouseStore). */
    private readonly checkQuorum: (name: string, queriesFor: (localTable: string) => string[]) => Promise<void> = async () => undefined,
    /** Closed hours of each domain's audience in memory (audience-blocks.ts), or undefined: every read by SQL. */
    readonly blocks?: AudienceBlocks,
    /** Closed hours of each domain's play-info rows in memory (play-info-blocks.ts), or undefined. */
    readonly playBlocks?: PlayInfoBlocks,
    /** Closed days' distinct users of each domain in memory (audience-blocks.ts), or undefined. */
    readonly usersBlocks?: AudienceUsersBlocks,
    /** The users answers' renderers off the main thread (users-bodies.ts), or undefined: rendered here. */
    readonly bodies?: UsersBodies,
    /** Closed days' whole-domain portraits in memory (portrait-days.ts), or undefined. */
    readonly portraitDays?: PortraitDays,
  ) {}

  private t(name: AudienceTable): string {
    return table(this.names, name);
  }

  async write(batchId: string, batches: readonly ProjectAudience[], retry: boolean): Promise<void> {
    /** The (project, domain, hour)s the batch touches in the stamped tables (migration 014), for a retry's bump. */
    const stamped = new Map<string, [string, string, number]>();
    /** The (project, domain, day)s of its users (the day stamps). */
    const days = new Map<string, [string, string, number]>();
    // TabSeparated data rows as bytes (sql.ts TsvBytes), one chunk at a time (audience-rows.ts); names escaped once.
    const w = new TsvBytes();
    const rows = new AudienceRows(batches, w, retry ? {
      hour: (project, domain, minute) => {
        const hour = Math.floor(minute / 60);
        const k = `${project}\u0000${domain}\u0000${hour}`;
        if (!stamped.has(k)) stamped.set(k, [project, domain, hour]);
      },
      day: (project, domain, day) => {
        days.set(`${project}\u0000${domain}\u0000${day}`, [project, domain, day]);
      },
    } : undefined);
    const settings = { settings: this.insertSettings() };
    const plain = async (kind: 'hls' | 'users', statement: string): Promise<void> => {
      const r = rows[kind];
      for (let start = 0; start < r.at.length; start += CHUNK_ROWS) {
        const end = Math.min(r.at.length, start + CHUNK_ROWS);
        for (let n = start; n < end; n++) rows.write(kind, w, r.batch[n] as number, r.at[n] as number);
        await this.server.exec(statement, { ...settings, body: w.take() });
      }
    };
    // The four tables at once, each table's chunks in order (one quorum insert per table at a time in 18.16):
    // each is retry-safe on its own (the cells' and the sessions' markers are their own), and an ingest
    // acknowledgement waits for the slowest table, not for the cells and then the sessions (issue 24).
    await settled([
      this.writeCells('audience_cells', batchId, rows, retry, w),
      this.writeCells('audience_sessions', batchId, rows, retry, w),
      plain('hls', `INSERT INTO ${this.t('audience_hls')} (project, domain, minute, app, stream, region, isp, ip) FORMAT TabSeparated`),
      plain('users', `INSERT INTO ${this.t('audience_users')} (project, domain, day, stream, ip) FORMAT TabSeparated`),
    ]);
    if (stamped.size > 0) await this.bumpStamps('audience_stamps', [...stamped.values()]);
    if (days.size > 0) await this.bumpStamps('audience_users_stamps', [...days.values()]);
  }

  /**
   * A retry: an earlier attempt may have landed while a stamp view failed (or a replicated table
   * deduplicated this attempt's insert, views included), so every hour the batch touches gets a new
   * stamp (a random tag, no rows): a node's audience block of that hour is then stale (audience-blocks.ts); the
   * same for the days of its users (their day stamps).
   */
  private async bumpStamps(name: 'audience_stamps' | 'audience_users_stamps', hours: ReadonlyArray<[string, string, number]>): Promise<void> {
    for (const part of slices(hours, CHUNK_ROWS)) {
      const tags = part.map(() => 1 + Math.floor(Math.random() * 2 ** 52));
      const values = part.map(([p, d, h], i) => `(${quote(p)}, ${quote(d)}, ${quote(h)}, 0, ${quote(tags[i] as number)})`);
      await this.server.exec(`INSERT INTO ${this.t(name)} (project, domain, hour, rows, tags) VALUES ${values.join(', ')}`,
        { settings: this.insertSettings() });
      // The same bumps into the day stamps (migration 017): an hour's into (rows, tags) of its day (a day's is the sum of its
      // hours'), a users day's into (user_rows, user_tags) of that day (`hour` holds the day there), so a portrait kept under the
      // day's stamp (portrait-days.ts) is stale after either. A failure between the two inserts fails the write (retried: bumped
      // again); it leaves the day's (rows, tags) short of its hours' sum, repaired by the node reading it (audience-blocks.ts).
      const days = name === 'audience_stamps'
        ? part.map(([p, d, h], i) => `(${quote(p)}, ${quote(d)}, ${quote(Math.floor(h / 24))}, 0, ${quote(tags[i] as number)}, 0, 0)`)
        : part.map(([p, d, h], i) => `(${quote(p)}, ${quote(d)}, ${quote(h)}, 0, 0, 0, ${quote(tags[i] as number)})`);
      await this.server.exec(`INSERT INTO ${this.t('audience_day_stamps')} (project, domain, day, rows, tags, user_rows, user_tags) VALUES ${days.join(', ')}`,
        { settings: this.insertSettings() });
    }
  }

  private async writeCells(name: keyof typeof ADDITIVE, batchId: string, rows: AudienceRows, retry: boolean, w: TsvBytes): Promise<void> {
    const spec = ADDITIVE[name];
    const kind = name === 'audience_cells' ? 'cells' : 'sessions';
    const refs = rows[kind];
    // Deterministic chunks of the batch's rows (a retry makes the same), each grouped by (project, day): a marker per group.
    const chunks: Array<{ tag: string; groups: Group[] }> = [];
    for (let start = 0; start < refs.at.length; start += CHUNK_ROWS) {
      const groups = new Map<string, Group>();
      let last: Group | undefined;
      const end = Math.min(refs.at.length, start + CHUNK_ROWS);
      for (let n = start; n < end; n++) {
        const b = refs.batch[n] as number;
        const project = rows.project(b);
        const dayMinute = Math.floor(rows.minute(b, refs.at[n] as number) / DAY_MINUTES) * DAY_MINUTES;
        // Neighbouring cells mostly share a group: no key string for them.
        let g = last !== undefined && last.dayMinute === dayMinute && last.project === project ? last : undefined;
        if (!g) {
          const key = `${project}\u0000${dayMinute}`;
          g = groups.get(key);
          if (!g) groups.set(key, (g = { project, dayMinute, rows: [] }));
        }
        g.rows.push(n);
        last = g;
      }
      chunks.push({ tag: `${batchId}#${spec.tag}${chunks.length}`, groups: [...groups.values()] });
    }
    if (chunks.length === 0) return;
    const queryId = (tag: string): string => `livestats-${tag}`;
    const present = new Set<string>();
    if (retry) {
      await this.waitUntilFinished(chunks.map((c) => queryId(c.tag)));
      const pairs = chunks.flatMap((c) => c.groups.map((g) => ({ tag: c.tag, g })));
      const markersQueries = (table: string): string[] => slices(pairs).map((part) => `SELECT DISTINCT batch, project, minute FROM ${table}
          WHERE (project, domain, minute) IN (${part.map(({ g }) => tuple([g.project, '', g.dayMinute])).join(', ')}) AND markers > 0
            AND batch IN ${quoteList([...new Set(part.map((p) => p.tag))])}`);
      for (const sql of markersQueries(this.t(name))) {
        for (const r of await this.server.rows(sql, undefined, 'write')) present.add(`${str(r.batch)}\u0000${str(r.project)}\u0000${num(r.minute)}`);
      }
      // A group an earlier attempt left on fewer replicas than the quorum is not taken as landed.
      if (present.size > 0) await this.checkQuorum(name, markersQueries);
    }
    const marker = Buffer.from(spec.marker, 'latin1');
    for (const chunk of chunks) {
      const missing = chunk.groups.filter((g) => !present.has(`${chunk.tag}\u0000${g.project}\u0000${g.dayMinute}`));
      if (missing.length === 0) continue;
      for (const g of missing) {
        for (const n of g.rows) rows.write(kind, w, refs.batch[n] as number, refs.at[n] as number);
        w.str(g.project).tab().tab().int(g.dayMinute).tab().tab().tab().tab().tab().tab().str(chunk.tag).tab().raw(marker).end();
      }
      await this.server.exec(`INSERT INTO ${this.t(name)} (project, domain, minute, app, stream, protocol, region, isp, batch, ${spec.columns}) FORMAT TabSeparated`,
        { body: w.take(), queryId: queryId(chunk.tag), settings: this.insertSettings() });
    }
  }

  /** WHERE terms of the users filters shared by the cells and HLS tables. */
  private usersWhere(f: UsersFilter, fromMinute: number, toMinute: number): string[] {
    const c = [`project = ${quote(f.project)}`, `domain = ${quote(f.domain)}`, `minute >= ${quote(fromMinute)}`, `minute < ${quote(toMinute)}`];
    if (f.app !== undefined) c.push(`app = ${quote(f.app)}`);
    if (f.stream !== undefined) c.push(`stream = ${quote(f.stream)}`);
    if (f.regions.length > 0) c.push(`region IN ${quoteList(f.regions)}`);
    if (f.isps.length > 0) c.push(`isp IN ${quoteList(f.isps)}`);
    return c;
  }

  /** Online viewers per minute of [fromMinute, toMinute) under the filter. */
  private async viewersPerMinute(f: UsersFilter, fromMinute: number, toMinute: number, o: QueryOptions): Promise<Float64Array> {
    const out = new Float64Array(Math.max(0, toMinute - fromMinute));
    if (out.length === 0) return out;
    const where = this.usersWhere(f, fromMinute, toMinute);
    if (f.protocol !== 'hls') {
      const protocol = f.protocol !== undefined ? [`protocol = ${quote(f.protocol)}`] : [];
      const cw = [...where, "batch = ''", ...protocol];
      for (const r of await this.server.rows(`SELECT minute, sum(viewers) AS v FROM ${this.t('audience_cells')} WHERE ${cw.join(' AND ')} GROUP BY minute`, o.signal)) {
        bump(out, num(r.minute) - fromMinute, num(r.v));
      }
      // FLV/RTMP sessions: opens and closes from the start of fromMinute's quarter-hour (audience-flv.ts).
      const first = blockStart(fromMinute);
      const sw = [...this.usersWhere(f, first, toMinute), "batch = ''", ...protocol];
      const sessions = await this.sessionMinutes(`${sw.join(' AND ')}`, first, toMinute, o);
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (sessions[i + fromMinute - first] as number);
    }
    if (f.protocol === undefined || f.protocol === 'hls') {
      for (const r of await this.server.rows(`SELECT minute, uniqExact(app, stream, ip) AS v FROM ${this.t('audience_hls')} WHERE ${where.join(' AND ')} GROUP BY minute`, o.signal)) {
        bump(out, num(r.minute) - fromMinute, num(r.v));
      }
    }
    return out;
  }

  /** FLV/RTMP viewers per minute of [first, to) (first a quarter-hour start) of the sessions rows matching `where`. */
  private async sessionMinutes(where: string, first: number, to: number, o: QueryOptions): Promise<Float64Array> {
    const n = Math.max(0, to - first);
    const opens = new Float64Array(n);
    const closes = new Float64Array(n);
    for (const r of await this.server.rows(`SELECT minute, sum(opens) AS o, sum(closes) AS c FROM ${this.t('audience_sessions')} WHERE ${where} GROUP BY minute`, o.signal)) {
      bump(opens, num(r.minute) - first, num(r.o));
      bump(closes, num(r.minute) - first, num(r.c));
    }
    const viewers = new Float64Array(n);
    addSessionViewers(viewers, opens, closes, first);
    return viewers;
  }

  /**
   * `alloc`: makes the series (n slots, all 0; default a new Float64Array: usersBody's are reused, users-bodies.ts); `parts`:
   * gets the runs of slots whose entries the blocks have rendered (AudienceBlocks.usersSlots; none when SQL answers).
   */
  async usersSeries(f: UsersFilter, o: QueryOptions = {}, alloc?: (n: number) => Float64Array, parts?: UsersPart[]): Promise<Float64Array> {
    const slots = Math.max(0, Math.round((f.to - f.from) / f.slotMs));
    if (slots === 0) return new Float64Array(0);
    // A whole domain's viewers: closed hours from this node's blocks when they are current (audience-blocks.ts), which
    // make their own series (the one below is made only when SQL answers: 7 d at 60 s is 80 KB per answer).
    const fromBlocks = domainWide(f) ? await this.blocks?.usersSlots(f.project, f.domain, f.from, f.to, f.slotMs, o.signal, undefined, alloc, parts) : undefined;
    if (fromBlocks) return fromBlocks;
    if (parts) parts.length = 0;
    const out = alloc ? alloc(slots) : new Float64Array(slots);
    const fromMinute = Math.floor(f.from / MINUTE_MS);
    const minutes = await this.viewersPerMinute(f, fromMinute, Math.ceil(f.to / MINUTE_MS), o);
    const per = f.slotMs / MINUTE_MS;
    for (let i = 0; i < minutes.length; i++) {
      const j = Math.floor(i / per);
      if ((minutes[i] as number) > (out[j] as number)) out[j] = minutes[i] as number;
    }
    return out;
  }

  /**
   * The ListUsersOfStream answer as bytes (AudienceBodies): usersSeries rendered by a worker thread
   * (users-bodies.ts), the bytes the SQLite store's read workers make; give it back with releaseBody once sent.
   */
  async usersBody(f: UsersFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    const bodies = this.bodies;
    const slots = { slotMs: f.slotMs, from: f.from, to: f.to };
    if (!bodies) {
      const values = await this.usersSeries(f, o);
      return renderUsers({ slots: { ...slots, count: values.length } }, values);
    }
    // The series is made in memory an earlier answer rendered from (no new 80 KB ArrayBuffer per answer), and kept again
    // once this answer is rendered: the worker got a copy, and nothing else holds the series. Mostly closed days whose
    // entries the blocks have rendered (31 d: 30 of them): put together here from those and the few slots left (no worker hop).
    const parts: UsersPart[] = [];
    const values = await this.usersSeries(f, o, (n) => bodies.series(n), parts);
    const body = bodies.assemble(slots, values, parts) ?? await bodies.render(slots, values);
    bodies.keepSeries(values);
    return body;
  }

  async playInfo(f: PlayInfoFilter, o: QueryOptions = {}): Promise<PlayInfoRow[]> {
    // A closed minute of listed domains: their rows from this node's blocks when they are current (play-info-blocks.ts).
    return await this.playBlocks?.playInfo(f, (domains) => this.playInfoSql({ ...f, domains }, o), o.signal) ?? this.playInfoSql(f, o);
  }

  /**
   * The ListPlayDomainStreamInfo answer as bytes (AudienceBodies): from the blocks (each current domain's
   * minute rendered once from its entries, kept in the answer's order, and copied whole: PlayInfoBlocks.body),
   * else from playInfoSql's rows; the bytes of JSON.stringify(shapePlayInfo(...)) over playInfo.
   */
  async playInfoBody(f: PlayInfoFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    const body = await this.playBlocks?.body(f, (domains) => this.playInfoSql({ ...f, domains }, o), o.signal);
    return body ?? renderPlayInfoEntries(f.minute, entriesByDomain(await this.playInfoSql(f, o)));
  }

  private async playInfoSql(f: PlayInfoFilter, o: QueryOptions): Promise<PlayInfoRow[]> {
    const minute = Math.floor(f.minute / MINUTE_MS);
    const c = [`project = ${quote(f.project)}`, `minute = ${quote(minute)}`];
    if (f.domains.length > 0) c.push(`domain IN ${quoteList(f.domains)}`);
    const rows = new Map<string, PlayInfoRow>();
    const entry = (domain: string, app: string, stream: string, protocol: AudienceProtocol): PlayInfoRow => {
      const k = JSON.stringify([domain, app, stream, protocol]);
      let e = rows.get(k);
      if (!e) rows.set(k, (e = { domain, app, stream, protocol, bytes: 0, online: 0 }));
      return e;
    };
    // FLV/RTMP sessions open in the minute: opens - closes from its quarter-hour's start to it (audience-flv.ts).
    const sc = [`project = ${quote(f.project)}`, `minute >= ${quote(blockStart(minute))}`, `minute <= ${quote(minute)}`, "batch = ''"];
    if (f.domains.length > 0) sc.push(`domain IN ${quoteList(f.domains)}`);
    // The three reads at once (sums of whole numbers: the order they are added in does not matter).
    const [cells, sessions, hls] = await Promise.all([
      this.server.rows(`SELECT domain, app, stream, protocol, sum(bytes) AS b, sum(viewers) AS v FROM ${this.t('audience_cells')}
        WHERE ${[...c, "batch = ''"].join(' AND ')} GROUP BY domain, app, stream, protocol`, o.signal),
      this.server.rows(`SELECT domain, app, stream, protocol, sum(opens) AS o, sum(closes) AS c FROM ${this.t('audience_sessions')}
        WHERE ${sc.join(' AND ')} GROUP BY domain, app, stream, protocol`, o.signal),
      this.server.rows(`SELECT domain, app, stream, uniqExact(ip) AS v FROM ${this.t('audience_hls')}
        WHERE ${c.join(' AND ')} GROUP BY domain, app, stream`, o.signal),
    ]);
    for (const r of cells) {
      const e = entry(str(r.domain), str(r.app), str(r.stream), str(r.protocol) as AudienceProtocol);
      e.bytes += num(r.b);
      e.online += num(r.v);
    }
    for (const r of sessions) entry(str(r.domain), str(r.app), str(r.stream), str(r.protocol) as AudienceProtocol).online += num(r.o) - num(r.c);
    for (const r of hls) entry(str(r.domain), str(r.app), str(r.stream), 'hls').online += num(r.v);
    return [...rows.values()].filter((e) => e.bytes > 0 || e.online > 0).sort(comparePlayInfo);
  }

  /** The day's minutes of the domain or of one stream of it, by SQL. */
  private async portraitMinutes(f: PortraitFilter, o: QueryOptions): Promise<DomainMinutes> {
    const from = Math.floor(f.day / MINUTE_MS);
    const c = [`project = ${quote(f.project)}`, `domain = ${quote(f.domain)}`, `minute >= ${quote(from)}`, `minute < ${quote(from + DAY_MINUTES)}`];
    if (f.stream !== undefined) c.push(`stream = ${quote(f.stream)}`);
    const viewers = new Float64Array(DAY_MINUTES);
    const bytes = new Float64Array(DAY_MINUTES);
    const requests = new Float64Array(DAY_MINUTES);
    const playMs = new Float64Array(DAY_MINUTES);
    for (const r of await this.server.rows(`SELECT minute, sum(viewers) AS v, sum(bytes) AS b, sum(requests) AS n, sum(play_ms) AS p
      FROM ${this.t('audience_cells')} WHERE ${[...c, "batch = ''"].join(' AND ')} GROUP BY minute`, o.signal)) {
      const i = num(r.minute) - from;
      bump(viewers, i, num(r.v));
      bump(bytes, i, num(r.b));
      bump(requests, i, num(r.n));
      bump(playMs, i, num(r.p));
    }
    // The day starts at a quarter-hour: its sessions need no earlier row.
    const sessions = await this.sessionMinutes([...c, "batch = ''"].join(' AND '), from, from + DAY_MINUTES, o);
    for (let i = 0; i < DAY_MINUTES; i++) {
      viewers[i] = (viewers[i] as number) + (sessions[i] as number);
    }
    for (const r of await this.server.rows(`SELECT minute, uniqExact(app, stream, ip) AS v FROM ${this.t('audience_hls')} WHERE ${c.join(' AND ')} GROUP BY minute`, o.signal)) {
      const v = num(r.v);
      bump(viewers, num(r.minute) - from, v);
      bump(playMs, num(r.minute) - from, v * MINUTE_MS);
    }
    return { viewers, bytes, requests, playMs };
  }

  async streamPortrait(f: PortraitFilter, o: QueryOptions = {}): Promise<PortraitDay> {
    // A whole domain's closed day: from this node's memory when its day stamp is the one it was kept under (portrait-days.ts).
    if (f.stream === undefined && this.portraitDays) return this.portraitDays.portrait(f.project, f.domain, f.day, () => this.computePortrait(f, o), o.signal);
    return this.computePortrait(f, o);
  }

  private async computePortrait(f: PortraitFilter, o: QueryOptions): Promise<PortraitDay> {
    // A whole domain's day: closed hours from this node's blocks when they are current (audience-blocks.ts).
    const u = [`project = ${quote(f.project)}`, `domain = ${quote(f.domain)}`, `day = ${quote(Math.floor(f.day / DAY_MS))}`];
    if (f.stream !== undefined) u.push(`stream = ${quote(f.stream)}`);
    const [day, users] = await Promise.all([
      (async () => (f.stream === undefined ? await this.blocks?.minutes(f.project, f.domain, f.day, f.day + DAY_MS, o.signal) : undefined)
        ?? await this.portraitMinutes(f, o))(),
      (async () => (f.stream === undefined ? await this.usersBlocks?.users(f.project, f.domain, f.day, o.signal) : undefined)
        ?? num((await this.server.rows(`SELECT uniqExact(ip) AS n FROM ${this.t('audience_users')} WHERE ${u.join(' AND ')}`, o.signal))[0]?.n ?? 0))(),
    ]);
    const viewers = day.viewers;
    const bytes = day.bytes;
    const lines = day.requests.reduce((a, b) => a + b, 0);
    const play = day.playMs.reduce((a, b) => a + b, 0);
    let flow = 0;
    let peakUsers = 0;
    let peakBytes5m = 0;
    for (let i = 0; i < DAY_MINUTES; i++) {
      flow += bytes[i] as number;
      peakUsers = Math.max(peakUsers, viewers[i] as number);
      if (i % 5 === 0) peakBytes5m = Math.max(peakBytes5m, bytes.subarray(i, i + 5).reduce((a, b) => a + b, 0));
    }
    // push_duration is not in the audience tables: 0 here (the whole domain's answer); ClickHouseStore.streamPortrait
    // replaces it for a stream with the seconds from the origin's publish records (origin-api.md).
    return { flow, requests: lines, playSeconds: Math.round(play / 1000), users, peakUsers, peakBytes5m, pushSeconds: 0 };
  }

  async audienceDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    const rows = await this.server.rows(`SELECT DISTINCT domain FROM ${this.t('audience_cells')}
      WHERE project = ${quote(project)} AND domain != '' ORDER BY domain`, o.signal);
    return rows.map((r) => str(r.domain));
  }
}

/** Adds v at index i (within the series; rows outside it are ignored). */
function bump(a: Float64Array, i: number, v: number): void {
  if (i >= 0 && i < a.length) a[i] = (a[i] as number) + v;
}
