import type Database from 'better-sqlite3';
import { playInfoLayout, playInfoOrder, renderPlayInfo, type PlayInfoColumns, type PlayInfoLayout } from '../../contract/audience/play-info-body.js';
import { renderUsers } from '../../contract/audience/users-body.js';
import { AUDIENCE_PROTOCOLS, comparePlayInfo, type AudienceProtocol, type PlayInfoFilter, type PlayInfoRow, type PortraitDay, type PortraitFilter, type UsersFilter } from '../audience.js';
import { addSlotThroughMeasures, sumMeasure } from '../blocks/codec.js';
import { cachedStatement } from '../blocks/table.js';
import { ISP_INDEX, REGION_INDEX } from './layout.js';
import { addSessionViewers, blockStart } from '../audience-flv.js';
import { domainDaySums } from './audience-sums.js';
import { domainDaySlots } from './audience-day-minutes.js';
import { domainStreamLists, type DomainStream } from './audience-stream-list.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_SLOT_MS, AUDIENCE_STREAMS, M_BYTES, M_CLOSES, M_OPENS, M_PLAY_MS, M_REQUESTS, M_VIEWERS, userKey } from './audience-layout.js';

const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;

/** A request to the audience reads (one message kind for the read workers). */
export type AudienceRead =
  | { op: 'users'; filter: UsersFilter }
  | { op: 'play-info'; filter: PlayInfoFilter }
  | { op: 'portrait'; filter: PortraitFilter }
  | { op: 'domains'; project: string }
  | { op: 'users-body'; filter: UsersFilter }
  | { op: 'play-info-body'; filter: PlayInfoFilter };

/**
 * Series of a cube whose JSON key starts with the tuple's prefix (a range on the key's unique index).
 * The rows come back as one JSON text, `[id,key,id,key,...]` (keys are JSON arrays), parsed once:
 * a domain's 100 streams are not 100 rows and 100 parses.
 */
function seriesWithPrefix(db: Database.Database, table: string, tuple: readonly string[]): Array<{ id: number; tuple: string[] }> {
  const prefix = JSON.stringify(tuple).slice(0, -1) + ',';
  const text = cachedStatement(db, `SELECT '[' || group_concat(id || ',' || key) || ']' FROM ${table} WHERE key >= ? AND key < ?`)
    .pluck().get(`${prefix}"`, `${prefix}#`) as string | null;
  if (text === null) return [];
  const flat = JSON.parse(text) as Array<number | string[]>;
  const out: Array<{ id: number; tuple: string[] }> = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i] as number, tuple: flat[i + 1] as string[] });
  return out;
}

/** Stream series of a domain matching app/stream (undefined: any). */
function streamSeries(db: Database.Database, project: string, domain: string, app: string | undefined, stream: string | undefined): Array<{ id: number; tuple: string[] }> {
  return seriesWithPrefix(db, AUDIENCE_STREAMS.seriesTable, app !== undefined ? [project, domain, app] : [project, domain])
    .filter((s) => s.tuple.length === 4 && (app === undefined || s.tuple[2] === app) && (stream === undefined || s.tuple[3] === stream));
}

/**
 * Online viewers per minute over series and a filter (index i = minute fromMinute + i): the viewers
 * measure plus the FLV/RTMP sessions, prefix-summed from the start of the block holding fromMinute
 * (src/store/audience-flv.ts).
 */
function viewerMinutes(
  db: Database.Database, perStream: boolean, series: number[], filter: ReadonlyArray<readonly number[]>,
  fromMinute: number, toMinute: number, protocol: number | undefined,
): Float64Array {
  const first = blockStart(fromMinute);
  const n = Math.max(0, toMinute - first);
  const viewers = new Float64Array(n);
  if (n === 0 || series.length === 0) return viewers.subarray(Math.min(n, fromMinute - first));
  const sessions = protocol !== AUDIENCE_PROTOCOLS.indexOf('hls');
  const opens = new Float64Array(sessions ? n : 0);
  const closes = new Float64Array(sessions ? n : 0);
  const cube = perStream ? AUDIENCE_STREAMS : AUDIENCE_DOMAINS;
  const level = cube.levelFor(filter);
  // Region/isp filters on a level keeping them in the cell key: keys of other groups are skipped.
  const pick = (out: Float64Array): ((key: number) => Float64Array | undefined) =>
    cube.keyColumns(level, filter, (key) => (protocol === undefined || key === protocol ? out : undefined));
  const toViewers = pick(viewers);
  const toOpens = pick(opens);
  const toCloses = pick(closes);
  const bs = cube.spec.blockSlots;
  // One scan: each block read once for the three measures.
  level.table.scan(db, series, [...new Set(cube.groupsFor(level, filter))], Math.floor(first / bs), Math.ceil(toMinute / bs), (block, data) => {
    const at = block * bs - first;
    sumMeasure(data, M_VIEWERS, at, toViewers);
    if (!sessions) return;
    sumMeasure(data, M_OPENS, at, toOpens);
    sumMeasure(data, M_CLOSES, at, toCloses);
  });
  if (sessions) addSessionViewers(viewers, opens, closes, first);
  return viewers.subarray(fromMinute - first);
}

/**
 * Online viewers per slot (60 s: the minute; 300 s: the largest of its five minutes). `sums: false`
 * reads the blocks even where the domain block sums would answer (tests compare the two).
 */
export function readUsersSeries(db: Database.Database, f: UsersFilter, sums = true): Float64Array {
  const slots = Math.max(0, Math.round((f.to - f.from) / f.slotMs));
  const out = new Float64Array(slots);
  if (slots === 0) return out;
  const regions = f.regions.map((r) => REGION_INDEX.get(r)).filter((i): i is number => i !== undefined);
  const isps = f.isps.map((r) => ISP_INDEX.get(r)).filter((i): i is number => i !== undefined);
  if ((f.regions.length > 0 && regions.length === 0) || (f.isps.length > 0 && isps.length === 0)) return out;
  const perStream = f.app !== undefined || f.stream !== undefined;
  let series: number[];
  if (perStream) series = streamSeries(db, f.project, f.domain, f.app, f.stream).map((s) => s.id);
  else {
    const id = AUDIENCE_DOMAINS.seriesId(db, [f.project, f.domain], false);
    series = id === undefined ? [] : [id];
  }
  const protocol = f.protocol === undefined ? undefined : AUDIENCE_PROTOCOLS.indexOf(f.protocol);
  const per = f.slotMs / AUDIENCE_SLOT_MS;
  if (sums && !perStream && protocol === undefined && regions.length === 0 && isps.length === 0 && f.from % AUDIENCE_SLOT_MS === 0 && Number.isInteger(per)) {
    // A whole domain on whole minutes (60 s, 300 s, 1 h): the days' minute viewers (schema v17), one
    // row per day instead of a block or sums row per quarter-hour; each slot is the largest of its
    // minutes (at least 0), as from the blocks below.
    const id = series[0];
    if (id === undefined) return out;
    domainDaySlots(db, id, f.from / AUDIENCE_SLOT_MS, Math.ceil(f.to / AUDIENCE_SLOT_MS), per, out);
    return out;
  }
  const fromMinute = Math.floor(f.from / AUDIENCE_SLOT_MS);
  const toMinute = Math.ceil(f.to / AUDIENCE_SLOT_MS);
  const minutes = viewerMinutes(db, perStream, series, [regions, isps], fromMinute, toMinute, protocol);
  for (let i = 0; i < minutes.length; i++) {
    const j = Math.floor(i / per);
    if ((minutes[i] as number) > (out[j] as number)) out[j] = minutes[i] as number;
  }
  return out;
}

/** Every play domain of the project with audience series, ascending. */
export function readAudienceDomains(db: Database.Database, project: string): string[] {
  return seriesWithPrefix(db, AUDIENCE_DOMAINS.seriesTable, [project]).filter((s) => s.tuple.length === 2).map((s) => s.tuple[1] as string).sort();
}

/** The streams of some domains in columns, with their answer order and the column of each series id. */
interface StreamColumns {
  lists: ReadonlyArray<readonly DomainStream[]>;
  domains: string[];
  apps: string[];
  streams: string[];
  /** Series id -> column. */
  at: Map<number, number>;
  /** The series ids (at's keys). */
  ids: number[];
  /** Columns in the answer's order (playInfoOrder). */
  order: Int32Array;
  /** The order's groups and the entries' texts (playInfoLayout), kept with the columns. */
  layout: PlayInfoLayout;
}

/** Domain sets whose stream columns a connection keeps at most (more: they are all dropped and made again). */
const MAX_COLUMN_SETS = 64;
const keptColumns = new WeakMap<Database.Database, Map<string, StreamColumns>>();

/**
 * The streams of the domains in columns (each series once, in the first domain listing it) with their
 * answer order and its layout (the order's groups, and the entries' texts as answers make them:
 * playInfoLayout), made from the domains' stream lists (domainStreamLists) and kept per connection while
 * those lists are the same ones: the lists are kept while no stream series was added, and the columns,
 * their order and the texts (made from the names alone) depend on nothing else, so an answer neither
 * sorts the stream names nor makes its columns or its names' texts again.
 */
function streamColumns(db: Database.Database, project: string, domains: readonly string[]): StreamColumns {
  const lists = domainStreamLists(db, project, domains);
  let byDomains = keptColumns.get(db);
  if (byDomains === undefined) keptColumns.set(db, (byDomains = new Map()));
  // NUL cannot occur in a project id or a domain: the join is unique.
  const key = `${project}\u0000${domains.join('\u0000')}`;
  const kept = byDomains.get(key);
  if (kept !== undefined && kept.lists.length === lists.length && kept.lists.every((l, d) => l === lists[d])) return kept;
  const cols: StreamColumns = { lists, domains: [], apps: [], streams: [], at: new Map(), ids: [], order: new Int32Array(0), layout: { groupEnd: new Int32Array(0), texts: [] } };
  for (let d = 0; d < domains.length; d++) {
    const domain = domains[d] as string;
    for (const [id, app, stream] of lists[d] ?? []) {
      if (cols.at.has(id)) continue;
      cols.at.set(id, cols.streams.length);
      cols.domains.push(domain);
      cols.apps.push(app);
      cols.streams.push(stream);
    }
  }
  cols.order = playInfoOrder(cols);
  cols.layout = playInfoLayout(cols, cols.order);
  cols.ids = [...cols.at.keys()];
  if (byDomains.size >= MAX_COLUMN_SETS) byDomains.clear();
  byDomains.set(key, cols);
  return cols;
}

/**
 * The minute's streams in columns (PlayInfoColumns: per stream and protocol, viewers and bytes),
 * in no set order. Every stream's block holding the minute is read in one scan (a row id range when the
 * streams' ids are close together), both measures of the minute taken from each block; cells of
 * the total level (no region/isp filter).
 */
export function readPlayInfoColumns(db: Database.Database, f: PlayInfoFilter): PlayInfoColumns {
  const domains = f.domains.length > 0 ? [...f.domains] : readAudienceDomains(db, f.project);
  const minute = Math.floor(f.minute / AUDIENCE_SLOT_MS);
  const cols = streamColumns(db, f.project, domains);
  const at = cols.at;
  const P = AUDIENCE_PROTOCOLS.length;
  const online = new Float64Array(cols.streams.length * P);
  const bytes = new Float64Array(cols.streams.length * P);
  // One scan over every stream's block holding the minute; cells of the total level (no region/isp filter).
  const level = AUDIENCE_STREAMS.levelFor([[], []]);
  const bs = AUDIENCE_STREAMS.spec.blockSlots;
  const block = Math.floor(minute / bs);
  const v = new Float64Array(P);
  const b = new Float64Array(P);
  // FLV/RTMP sessions: opens and closes of the block's slots up to the minute, summed per protocol.
  const opens = new Float64Array(P);
  const closes = new Float64Array(P);
  const slot = minute - block * bs;
  const measures = [M_VIEWERS, M_BYTES, M_OPENS, M_CLOSES];
  const through = [false, false, true, true];
  const into = [v, b, opens, closes];
  level.table.scan(db, cols.ids, AUDIENCE_STREAMS.groupsFor(level, [[], []]), block, block + 1, (blk, data, series) => {
    const i = at.get(series);
    if (i === undefined) return;
    v.fill(0);
    b.fill(0);
    opens.fill(0);
    closes.fill(0);
    // One directory read per block: the minute's viewers and bytes, the sessions opened and closed since the block's start.
    addSlotThroughMeasures(data, slot, measures, through, into);
    for (let p = 0; p < P; p++) {
      const sessions = (opens[p] as number) - (closes[p] as number);
      online[i * P + p] = (online[i * P + p] as number) + (v[p] as number) + sessions;
      bytes[i * P + p] = (bytes[i * P + p] as number) + (b[p] as number);
    }
  });
  return { domains: cols.domains, apps: cols.apps, streams: cols.streams, order: cols.order, layout: cols.layout, online, bytes };
}

/** The minute's streams with bytes or viewers, ordered by domain, stream, protocol, app. */
export function readPlayInfo(db: Database.Database, f: PlayInfoFilter): PlayInfoRow[] {
  const c = readPlayInfoColumns(db, f);
  const P = AUDIENCE_PROTOCOLS.length;
  const rows: PlayInfoRow[] = [];
  for (let i = 0; i < c.streams.length; i++) {
    for (let p = 0; p < P; p++) {
      const v = c.online[i * P + p] as number;
      const b = c.bytes[i * P + p] as number;
      if (v === 0 && b === 0) continue;
      rows.push({ domain: c.domains[i] as string, app: c.apps[i] as string, stream: c.streams[i] as string, protocol: AUDIENCE_PROTOCOLS[p] as AudienceProtocol, bytes: b, online: v });
    }
  }
  return rows.sort(comparePlayInfo);
}

/**
 * Per-minute sums of viewers (with the FLV/RTMP sessions), bytes, requests and play ms (in that
 * order) over series, every protocol, region and carrier: one scan, each block read once.
 */
function dayTotals(db: Database.Database, perStream: boolean, series: number[], fromMinute: number, toMinute: number): Float64Array[] {
  const measures = [M_VIEWERS, M_BYTES, M_REQUESTS, M_PLAY_MS, M_OPENS, M_CLOSES];
  const outs = measures.map(() => new Float64Array(Math.max(0, toMinute - fromMinute)));
  if (toMinute <= fromMinute || series.length === 0) return outs;
  const cube = perStream ? AUDIENCE_STREAMS : AUDIENCE_DOMAINS;
  const level = cube.levelFor([[], []]);
  const bs = cube.spec.blockSlots;
  level.table.scan(db, series, [...new Set(cube.groupsFor(level, [[], []]))], Math.floor(fromMinute / bs), Math.ceil(toMinute / bs), (block, data) => {
    for (let j = 0; j < measures.length; j++) {
      const out = outs[j] as Float64Array;
      sumMeasure(data, measures[j] as number, block * bs - fromMinute, () => out);
    }
  });
  // fromMinute is a UTC midnight: a block start.
  addSessionViewers(outs[0] as Float64Array, outs[4] as Float64Array, outs[5] as Float64Array, fromMinute);
  return outs.slice(0, 4);
}

/** The distinct client IPs of the portrait's domain or stream on its day. */
function dayUsers(db: Database.Database, f: PortraitFilter): number {
  const uid = cachedStatement(db, 'SELECT id FROM aud_user_keys WHERE key = ?').pluck().get(userKey(f.project, f.domain, f.stream)) as number | undefined;
  return uid === undefined ? 0
    : ((cachedStatement(db, 'SELECT n FROM aud_user_counts WHERE day = ? AND uid = ?').pluck().get(Math.floor(f.day / DAY_MS), uid) as number | undefined) ?? 0);
}

/** A day's portrait of a domain or of one stream (any app) of it (`sums: false`: from the blocks, as readUsersSeries). */
export function readPortrait(db: Database.Database, f: PortraitFilter, sums = true): PortraitDay {
  const perStream = f.stream !== undefined;
  let series: number[];
  if (perStream) series = streamSeries(db, f.project, f.domain, undefined, f.stream).map((s) => s.id);
  else {
    const id = AUDIENCE_DOMAINS.seriesId(db, [f.project, f.domain], false);
    series = id === undefined ? [] : [id];
  }
  const from = Math.floor(f.day / AUDIENCE_SLOT_MS);
  const to = from + MINUTES_PER_DAY;
  let flow = 0;
  let lines = 0;
  let play = 0;
  let peakUsers = 0;
  let peakBytes5m = 0;
  if (sums && !perStream) {
    // A whole domain: its day's block sums (schema v16), 96 rows of one range.
    if (series[0] !== undefined) {
      const d = domainDaySums(db, series[0], from / AUDIENCE_BLOCK_SLOTS, to / AUDIENCE_BLOCK_SLOTS);
      flow = d.bytes;
      lines = d.requests;
      play = d.playMs;
      peakUsers = d.peakViewers;
      peakBytes5m = d.peakBytes5m;
    }
    return { flow, requests: lines, playSeconds: Math.round(play / 1000), users: dayUsers(db, f), peakUsers, peakBytes5m, pushSeconds: 0 };
  }
  const [viewers, bytes, requests, playMs] = dayTotals(db, perStream, series, from, to) as [Float64Array, Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < MINUTES_PER_DAY; i++) {
    flow += bytes[i] as number;
    lines += requests[i] as number;
    play += playMs[i] as number;
    peakUsers = Math.max(peakUsers, viewers[i] as number);
  }
  for (let i = 0; i < MINUTES_PER_DAY; i += 5) {
    let b = 0;
    for (let j = i; j < i + 5; j++) b += bytes[j] as number;
    peakBytes5m = Math.max(peakBytes5m, b);
  }
  const users = dayUsers(db, f);
  // push_duration is not in the audience cube: 0 here (the whole domain's answer); SqliteStore.streamPortrait
  // replaces it for a stream with the seconds from the origin's publish records (origin-api.md).
  return { flow, requests: lines, playSeconds: Math.round(play / 1000), users, peakUsers, peakBytes5m, pushSeconds: 0 };
}

/** Runs one audience read (inline or in a read worker). */
export function runAudienceRead(db: Database.Database, r: AudienceRead): unknown {
  switch (r.op) {
    case 'users': return readUsersSeries(db, r.filter);
    case 'play-info': return readPlayInfo(db, r.filter);
    case 'portrait': return readPortrait(db, r.filter);
    case 'domains': return readAudienceDomains(db, r.project);
    case 'users-body': return usersBody(db, r.filter);
    case 'play-info-body': return playInfoBody(db, r.filter);
  }
}

/**
 * The ListUsersOfStream answer as bytes, read and rendered on the calling thread (a read worker):
 * the same bytes as renderUsers over readUsersSeries, which the route would otherwise run.
 */
export function usersBody(db: Database.Database, f: UsersFilter): Uint8Array {
  const slots = { slotMs: f.slotMs, from: f.from, to: f.to, count: Math.max(0, Math.round((f.to - f.from) / f.slotMs)) };
  return renderUsers({ slots }, readUsersSeries(db, f));
}

/**
 * The ListPlayDomainStreamInfo answer as UTF-8 bytes, rendered from the minute's columns here
 * instead of on the main thread: the bytes of JSON.stringify(shapePlayInfo(...)) over readPlayInfo.
 */
export function playInfoBody(db: Database.Database, f: PlayInfoFilter): Uint8Array {
  return renderPlayInfo(f.minute, readPlayInfoColumns(db, f));
}
