import { randomUUID } from 'node:crypto';
import type { Isp, Region } from '../contract/values.js';
import { isStreamName } from '../contract/traffic/values.js';
import { ORIGIN_SLOT_MS, type OriginBatch, type OriginQuery, type PlaySession, type PublishSession, type PublishType, type UpBytesRow } from '../store/origin.js';
import { AUDIENCE_PROTOCOLS, type ProjectAudience } from '../store/audience.js';
import { AUDIENCE_BLOCK_MINUTES } from '../store/audience-flv.js';
import { mergeAudience } from '../store/audience-merge.js';
import { packGeo } from '../ingest/geo/names.js';
import type { OriginEvent } from './events.js';
import type { StatStream } from './stat-xml.js';
import { ShardedKeySet, ShardedMap, ShardedSet } from './sharded-map.js';

/**
 * The publish side's state: which sessions are open on which origin, fed by notifications
 * (events) and statistics-page polls (snapshots), written to the store as they change.
 *
 * - A publish session opens at its publish event or the first poll showing it (start = poll time
 *   minus the client's connected time), and ends at its publish-done event or the first poll that
 *   no longer shows it. One that was last seen before this livestats started (a restart, an
 *   outage) ends when it was last seen.
 * - Input bytes come from polls only (notifications carry none): the growth of the stream's
 *   bytes_in since the last poll, spread over the 5-minute slots it covers in proportion to time.
 *   After an outage the growth since the last stored poll fills the gap the same way.
 * - Every operation is applied and written as one unit, one at a time. A write that fails is held:
 *   the operation stays applied and its batch is sent again, with the same id and rows, before the
 *   next operation (OriginWriteHeld), so what part of it a store without transactions (ClickHouse)
 *   kept is never added twice (src/store/clickhouse/origin-batch.ts). While the held batch still
 *   fails, new operations are refused: nothing of them is applied, so nothing refused is counted
 *   later (the next poll sees it again).
 */

export interface TrackerOptions {
  store: Pick<OriginQuery, 'writeOrigin' | 'openSessions' | 'openPlays'>;
  geo: (ip: string) => { region: Region; isp: Isp };
  now?: () => number;
  /** Publisher addresses that are relays (another server pushing), besides relays recognized by flashver. */
  isRelayAddress?: (ip: string) => boolean;
  /**
   * --max-streams: distinct (domain, app, stream) names a project may have open at once (publish
   * sessions and plays). A new one beyond it is refused (stream_limit); names already open, other
   * projects and other streams are unaffected.
   */
  maxStreams?: number;
  /** Clients and streams of a poll applied between two turns of the event loop (default APPLY_SLICE; tests use small ones). */
  applySlice?: number;
}

/**
 * A poll's apply handles this many clients (and streams) per event-loop task, then lets the loop turn
 * (setImmediate): ~1-3 ms on a quiet core, so a page of 320,000 clients never holds the event loop for
 * seconds. Other operations wait in the tracker's queue meanwhile, so the apply stays one unit.
 */
export const APPLY_SLICE = 2048;

/**
 * Ended plays whose audience cells go into one entry of their batch (mergeAudience): a poll that ends
 * 300,000 plays carries ~300 entries of a few typed arrays, not 300,000 (which outlived the apply,
 * cost the main heap seconds of garbage collection and the write thread's hand-off as long).
 */
export const AUDIENCE_MERGE = 1024;

/** A notification refused because its project is at --max-streams (the route answers 400 naming the stream). */
export class StreamLimitError extends Error {
  constructor(readonly max: number) {
    super(`the project has ${max} streams open, the most --max-streams allows`);
  }
}

/**
 * The operation is applied but the store refused its write: the batch is held and sent again (same
 * id, same rows) before the next operation, so it counts once. Not a refusal: a notification is
 * answered as accepted.
 */
export class OriginWriteHeld extends Error {
  constructor(cause: unknown) {
    super(`the store did not take the write; it is sent again before the next origin operation (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

/** What a poll of one origin saw (streams of every application), tagged with the project and defaults of that origin. */
export interface Snapshot {
  project: string;
  origin: string;
  /** The publish domain of streams first seen by this poll (no tcurl on the page). */
  domain: string;
  /** When the request was sent: sessions opened by a notification after it are not closed by this poll. */
  requestedAt: number;
  at: number;
  streams: StatStream[];
}

interface Live {
  key: string;
  session: PublishSession;
  clientId: string;
  /** Last time an event or poll saw it. */
  seenAt: number;
  /** Time up to which its input bytes have been counted (bytesIn is the page's counter at that time). */
  bytesAt: number;
  /** bytesIn as last read from a page in this process (undefined: none yet, so no bitrate from a delta). */
  polledBytes?: number;
  /** The page's stream time (the origin's clock) at that read: bitrates are measured on it, not on when livestats read the pages. */
  polledStreamMs?: number;
}

interface Play {
  key: string;
  /** The origin it was seen on (its key's). */
  origin: string;
  play: PlaySession;
  seenAt: number;
  /**
   * Opened by a notification and not shown by a page yet: pages requested before this time that lack
   * it do not end it (nginx shows a player only once livestats has answered its on_play, see PLAY_PENDING_MS).
   */
  pendingUntil?: number;
}

/** nginx-rtmp's own relays: its push/pull connections send this flashver; a pulled stream's local publisher has the other. */
export function isRelayFlashver(flashver: string): boolean {
  return flashver.startsWith('LNX.11,1,102,55') || flashver === 'ngx-local-relay';
}

/** `bytes` spread over [from, to) in proportion to time per 5-minute slot; integers summing to `bytes` exactly. */
export function spreadBytes(bytes: number, from: number, to: number): Array<{ slot: number; bytes: number }> {
  if (bytes <= 0) return [];
  if (to <= from) return [{ slot: Math.floor(to / ORIGIN_SLOT_MS) * ORIGIN_SLOT_MS, bytes }];
  const out: Array<{ slot: number; bytes: number }> = [];
  let given = 0;
  for (let slot = Math.floor(from / ORIGIN_SLOT_MS) * ORIGIN_SLOT_MS; slot < to; slot += ORIGIN_SLOT_MS) {
    const upTo = Math.min(to, slot + ORIGIN_SLOT_MS);
    // The last slot takes what is left: exact up to 2^53 - 1 bytes, where bytes * ms would round.
    const cumulative = upTo >= to ? bytes : Math.round((bytes * (upTo - from)) / (to - from));
    if (cumulative > given) out.push({ slot, bytes: cumulative - given });
    given = cumulative;
  }
  return out;
}

const PLAY_REFRESH_MS = 60_000;
/**
 * The longest a client may have been connected as far as livestats believes an origin (a page's
 * <time>, an update's time): 32 days, the audience cube's default retention. A longer (or absurd:
 * 2^53 ms, beyond the epoch) age is cut there (counted span_cut), so one hostile counter never costs
 * more than 32 days of 5-minute byte slots or audience minutes.
 */
export const MAX_CLIENT_AGE_MS = 32 * 86_400_000;
const ENDED_KEPT = 100_000;
const ENDED_KEEP_MS = 600_000;
/**
 * A page's publisher whose connection began (poll time minus its connected time) more than this after
 * the session of the same key was last seen is a new connection: the origin restarted and reused the
 * number. Within it, it is the same connection (the page's connected time is read late under load).
 */
const SAME_CONNECTION_MS = 5000;
/**
 * How long nginx may hold a notified play before showing it on its page: until livestats answers
 * its on_play, or its notify gives up (the docs' proxy location within 3 s, nginx-rtmp's own netcall
 * timeout 7 s). A play's end writes its audience cells, so a play is not ended and reopened as
 * a publish session is (see `vanished`): a page requested within this of the notification does not end it.
 */
const PLAY_PENDING_MS = 10_000;
const DAY_MS = 86_400_000;
const MINUTE = 60_000;
const BLOCK = AUDIENCE_BLOCK_MINUTES;
const RTMP = AUDIENCE_PROTOCOLS.indexOf('rtmp');

/**
 * An RTMP play session that ended, as audience cube input (issue 21's cube, protocol rtmp): one
 * session over the minutes it overlaps (its play time inside each), one request at its end, and its
 * client address among the users of every UTC day it touches. Bytes are not known per player (0).
 * The cells are written directly, the same numbers an AudienceCounter fed this one session drains
 * (src/origin/play-audience.test.ts checks both on edge cases), without its maps per play.
 */
export function playAudience(p: PlaySession & { end: number }): ProjectAudience {
  const geo = packGeo(p.region, p.isp);
  const durationMs = p.end - p.start;
  const start = p.end - durationMs;
  const first = Math.floor(start / MINUTE);
  const endMinute = Math.floor(p.end / MINUTE);
  const last = durationMs > 0 ? Math.ceil(p.end / MINUTE) - 1 : endMinute;
  // The counter's deltas of one session, applied in its order: [minute, open delta, play ms, requests].
  const touched: Array<[number, number, number, number]> = [];
  const at = (minute: number): [number, number, number, number] => {
    let d = touched.find((x) => x[0] === minute);
    if (!d) {
      d = [minute, 0, 0, 0];
      touched.push(d);
    }
    return d;
  };
  at(first)[1] += 1;
  at(last + 1)[1] -= 1;
  for (let day = Math.floor(start / DAY_MS) * DAY_MS; day < p.end; day += DAY_MS) {
    const from = Math.max(start, day);
    at(Math.floor(from / MINUTE))[2] += Math.min(p.end, day + DAY_MS) - from;
  }
  at(endMinute)[3] += 1;
  touched.sort((x, y) => x[0] - y[0]);
  // Rows as the counter's drain gives them (src/store/audience-flv.ts): the touched minutes, and
  // each block start the session spans between them with the sessions open then.
  const rows = touched.length + Math.ceil((last - first + 1) / BLOCK) + 1;
  const minute = new Float64Array(rows);
  const opens = new Float64Array(rows);
  const closes = new Float64Array(rows);
  const playMs = new Float64Array(rows);
  const requests = new Float64Array(rows);
  let n = 0;
  let open = 0;
  let prev = 0;
  for (const [mi, dOpen, dMs, dRequests] of touched) {
    if (open > 0) {
      for (let b = (Math.floor(prev / BLOCK) + 1) * BLOCK; b < mi; b += BLOCK) {
        minute[n] = b * MINUTE;
        opens[n++] = open;
      }
    }
    open += dOpen;
    prev = mi;
    const o = mi % BLOCK === 0 ? open : Math.max(0, dOpen);
    const c = mi % BLOCK === 0 ? 0 : Math.max(0, -dOpen);
    if (o > 0 || c > 0 || dMs > 0 || dRequests > 0) {
      minute[n] = mi * MINUTE;
      opens[n] = o;
      closes[n] = c;
      playMs[n] = dMs;
      requests[n++] = dRequests;
    }
  }
  const userDay: number[] = [];
  if (p.clientIp) {
    for (let day = Math.floor(p.start / DAY_MS) * DAY_MS; day < Math.max(p.end, p.start + 1); day += DAY_MS) userDay.push(day);
  }
  return {
    project: p.project,
    cells: {
      domains: [p.domain], apps: [p.app], streams: [p.stream],
      tuple: new Int32Array(n), minute: minute.slice(0, n), protocol: new Uint8Array(n).fill(RTMP), geo: new Uint8Array(n).fill(geo),
      sessions: new Float64Array(n), opens: opens.slice(0, n), closes: closes.slice(0, n), playMs: playMs.slice(0, n), bytes: new Float64Array(n), requests: requests.slice(0, n),
      hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [], hlsV4: new Float64Array(0),
      userTuple: new Int32Array(userDay.length), userDay: Float64Array.from(userDay), userIp: userDay.map(() => p.clientIp),
      userV4: new Float64Array(userDay.length).fill(-1),
    },
  };
}

/** Slots of one undo step in the journal: the map, the key, whether the map held it, its value then. */
const JOURNAL_STEP = 4;

const liveKey = (project: string, origin: string, clientId: string, app: string, stream: string): string =>
  JSON.stringify([project, origin, clientId, app, stream]);
const originKey = (project: string, origin: string): string => JSON.stringify([project, origin]);

/** A (sharded) Map whose keys are also grouped (by project and origin), so a poll finds its origin's entries without a scan of all. */
class GroupedMap<V> extends ShardedMap<V> {
  private readonly groups = new Map<string, ShardedSet>();

  constructor(private readonly groupOf: (v: V) => string) {
    super();
  }

  override set(key: string, value: V): this {
    // A key's group is part of the key (its project and origin): a key already held stays in its group.
    if (super.has(key)) return super.set(key, value);
    super.set(key, value);
    const g = this.groupOf(value);
    let keys = this.groups.get(g);
    if (!keys) {
      keys = new ShardedSet();
      this.groups.set(g, keys);
    }
    keys.add(key);
    return this;
  }

  override delete(key: string): boolean {
    const old = super.get(key);
    if (old === undefined) return false;
    this.ungroup(this.groupOf(old), key);
    return super.delete(key);
  }

  private ungroup(g: string, key: string): void {
    const keys = this.groups.get(g);
    keys?.delete(key);
    if (keys?.size === 0) this.groups.delete(g);
  }

  /**
   * The entries of one group, read as the loop goes (no copy of a big group; in the order they joined it): entries the caller
   * deletes meanwhile, the current one included, are skipped; the caller adds none to the group.
   */
  *entriesOf(g: string): Generator<V> {
    for (const k of this.groups.get(g) ?? []) {
      const v = super.get(k);
      if (v !== undefined) yield v;
    }
  }
}

export class OriginTracker {
  private readonly live = new GroupedMap<Live>((l) => originKey(l.session.project, l.session.origin));
  private readonly plays = new GroupedMap<Play>((p) => originKey(p.play.project, p.origin));
  /** Sessions and plays ended by a notification, and when (in time order): a poll requested before that must not open them again. */
  private readonly ended = new ShardedMap<number>();
  /**
   * Sessions a page closed because it no longer showed them (no publish_done), as they were, in time
   * order. nginx-rtmp shows a publisher only once livestats has answered its on_publish, so a page
   * read while that answer is on its way lacks a session the notification opened: when a later page
   * shows the same connection again, the session goes on (the same id, open again), not a new one.
   */
  private readonly vanished = new ShardedMap<Live>();
  /** Origins whose statistics page has been applied: only there can a page bring back what a late notification may not. */
  private readonly polled = new Set<string>();
  /**
   * Undo steps of the operation being applied (run()): each change of the three maps records how to
   * take it back (JOURNAL_STEP slots each), so a failed write costs the changes it made, not a copy of every open session.
   */
  private journal: unknown[] | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The batch whose write failed (applied in memory), sent again with the same id and rows before the next operation. */
  private held: OriginBatch | undefined;
  private readonly now: () => number;
  private startedAt = 0;
  /** Refused or ignored inputs by reason (for metrics and tests). */
  readonly refused = new Map<string, number>();
  /** Times a poll's apply let the event loop turn before it ended (see APPLY_SLICE). */
  slices = 0;
  /** Audience cells of a batch's ended plays not merged into its audience yet (endPlay, finishAudience). */
  private readonly audienceRun = new WeakMap<OriginBatch, ProjectAudience[]>();

  constructor(private readonly options: TrackerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the sessions the store has open (a restart): they are closed by the first poll of their origin that lacks them. */
  async restore(): Promise<void> {
    this.startedAt = this.now();
    for (const s of await this.options.store.openSessions()) {
      const clientId = s.id.split('|')[1] ?? '';
      const key = liveKey(s.project, s.origin, clientId, s.app, s.stream);
      this.live.set(key, { key, session: s, clientId, seenAt: s.updatedAt, bytesAt: s.updatedAt });
    }
    for (const p of await this.options.store.openPlays()) {
      const [origin, clientId] = p.id.split('|');
      const key = liveKey(p.project, origin ?? '', clientId ?? '', p.app, p.stream);
      this.plays.set(key, { key, origin: origin ?? '', play: p, seenAt: p.updatedAt });
    }
  }

  /** A client's connected time as believed: at most MAX_CLIENT_AGE_MS (longer ones counted span_cut). */
  private age(ms: number): number {
    if (ms <= MAX_CLIENT_AGE_MS) return ms;
    this.count('span_cut');
    return MAX_CLIENT_AGE_MS;
  }

  /** Whether a name not open yet may open in the project (--max-streams); the scan runs only when the tracker holds that many. */
  private admits(project: string, domain: string, app: string, stream: string): boolean {
    const cap = this.options.maxStreams;
    if (cap === undefined || this.live.size + this.plays.size < cap) return true;
    const key = JSON.stringify([domain, app, stream]);
    const open = new Set<string>();
    for (const l of this.live.values()) if (l.session.project === project) open.add(JSON.stringify([l.session.domain, l.session.app, l.session.stream]));
    for (const p of this.plays.values()) if (p.play.project === project) open.add(JSON.stringify([p.play.domain, p.play.app, p.play.stream]));
    return open.has(key) || open.size < cap;
  }

  /** Throws StreamLimitError (counted stream_limit) when the name may not open. */
  private admit(project: string, domain: string, app: string, stream: string): void {
    if (this.admits(project, domain, app, stream)) return;
    this.count('stream_limit');
    throw new StreamLimitError(this.options.maxStreams ?? 0);
  }

  count(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** Open sessions in memory (tests, metrics). */
  openSessions(): PublishSession[] {
    return [...this.live.values()].map((l) => l.session);
  }

  /** Applies one notification and writes it; rejects with OriginWriteHeld when its write is held, with the store's error (state unchanged) when refused. */
  event(project: string, e: OriginEvent): Promise<void> {
    return this.run(() => this.applyEvent(project, e));
  }

  /** Applies one poll of an origin and writes it; rejects as event() does. */
  snapshot(s: Snapshot): Promise<void> {
    return this.run(() => this.applySnapshot(s, this.options.applySlice ?? APPLY_SLICE));
  }

  /** Runs an apply given as steps to its end, letting the event loop turn between steps (the queue holds other operations meanwhile). */
  private async sliced(steps: Generator<void, OriginBatch>): Promise<OriginBatch> {
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done) return r.value;
      this.slices++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private run(apply: () => OriginBatch | Generator<void, OriginBatch>): Promise<void> {
    const next = this.queue.then(async () => {
      // Held writes (see OriginWriteHeld): the batch goes again, unchanged, before anything else.
      // While it still fails, the new operation is refused and nothing of it is applied.
      if (this.held) {
        await this.options.store.writeOrigin(this.held);
        this.held = undefined;
      }
      // An apply that throws part-way takes back what it changed (the journal); a write that fails
      // keeps the operation applied and holds its batch.
      const journal: unknown[] = [];
      this.journal = journal;
      let batch: OriginBatch;
      try {
        const applied = apply();
        batch = 'next' in applied ? await this.sliced(applied) : applied;
        this.finishAudience(batch);
      } catch (err) {
        this.undo(journal);
        throw err;
      } finally {
        this.journal = undefined;
      }
      if (batch.sessions.length === 0 && batch.upBytes.length === 0 && (batch.plays?.length ?? 0) === 0) return;
      batch.id = randomUUID();
      try {
        await this.options.store.writeOrigin(batch);
      } catch (err) {
        this.held = batch;
        throw new OriginWriteHeld(err);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Takes back an operation's changes, last first: every entry it touched has its value from before (an entry it deleted comes back last in iteration order). */
  private undo(journal: unknown[]): void {
    for (let i = journal.length - JOURNAL_STEP; i >= 0; i -= JOURNAL_STEP) {
      const map = journal[i] as ShardedMap<unknown>;
      const key = journal[i + 1] as string;
      if (journal[i + 2] === true) map.set(key, journal[i + 3]);
      else map.delete(key);
    }
  }

  /** Records how to restore `key` of `map` as it is now (outside run(): nothing to record). */
  private remember<V>(map: ShardedMap<V>, key: string): void {
    const j = this.journal;
    if (!j) return;
    // Four slots a change (see JOURNAL_STEP), not a closure: a poll of 317,000 plays records as many.
    const held = map.has(key);
    j.push(map, key, held, held ? map.get(key) : undefined);
  }

  private put<V>(map: ShardedMap<V>, key: string, value: V): void {
    this.remember(map, key);
    map.set(key, value);
  }

  private drop<V>(map: ShardedMap<V>, key: string): void {
    if (!map.has(key)) return;
    this.remember(map, key);
    map.delete(key);
  }

  private typeOf(flashver: string, addr: string, relay?: boolean): PublishType {
    return relay === true || isRelayFlashver(flashver) || this.options.isRelayAddress?.(addr) === true ? 1 : 0;
  }

  private open(project: string, origin: string, clientId: string, app: string, stream: string, addr: string, domain: string,
    type: PublishType, start: number, at: number): Live {
    const geo = addr ? this.options.geo(addr) : { region: 'OT' as Region, isp: 'OTHER' as Isp };
    const session: PublishSession = {
      project, id: `${origin}|${clientId}|${start}`, domain, app, stream, clientIp: addr, type, region: geo.region, isp: geo.isp,
      videoCodec: '', audioCodec: '', frameRate: 0, bitrate: 0, width: 0, height: 0, start, end: null, origin, bytesIn: 0, updatedAt: at,
    };
    const l: Live = { key: liveKey(project, origin, clientId, app, stream), session, clientId, seenAt: at, bytesAt: start };
    this.put(this.live, l.key, l);
    return l;
  }

  private applyEvent(project: string, e: OriginEvent): OriginBatch {
    const at = this.now();
    const batch: OriginBatch = { sessions: [], upBytes: [], plays: [] };
    const key = liveKey(project, e.origin, e.clientId, e.app, e.stream);
    const domain = e.domain ?? e.origin;
    if (e.kind === 'publish' || e.kind === 'update') {
      const known = this.live.get(key);
      if (known) {
        this.put(this.live, key, { ...known, seenAt: at, session: { ...known.session, updatedAt: at } });
        batch.sessions.push({ ...known.session, updatedAt: at });
      } else if (this.vanished.has(key) || (this.ended.has(key) && this.polled.has(originKey(project, e.origin)))) {
        // This connection's session has ended (publish_done) or a page no longer showed it: a late or
        // repeated notification (they travel on separate requests and may arrive in any order). The
        // pages decide: one showing the connection publishing again opens (or continues) it. An
        // origin no page is polled from has only its notifications: there it opens a new session.
        this.count('stale_event');
      } else {
        const elapsed = e.kind === 'update' && e.elapsedSec !== undefined ? at - this.age(e.elapsedSec * 1000) : at;
        const start = Math.max(elapsed, this.ended.get(key) ?? elapsed);
        this.admit(project, domain, e.app, e.stream);
        batch.sessions.push(this.open(project, e.origin, e.clientId, e.app, e.stream, e.addr, domain, this.typeOf(e.flashver, e.addr, e.relay), start, at).session);
      }
    } else if (e.kind === 'publish_done') {
      const known = this.live.get(key);
      if (!known && this.vanished.has(key)) {
        // A page closed it already; the notification keeps a stale page from opening it again.
        this.drop(this.vanished, key);
        this.markEnded(key, at);
      } else if (!known) {
        this.count('unknown_session');
      } else {
        this.drop(this.live, key);
        this.markEnded(key, at);
        batch.sessions.push({ ...known.session, end: Math.max(at, known.session.start), updatedAt: at });
      }
    } else {
      const known = this.plays.get(key);
      if (e.kind === 'play') {
        if (known) {
          this.put(this.plays, key, { ...known, seenAt: at });
        } else if (this.ended.has(`play:${key}`) && this.polled.has(originKey(project, e.origin))) {
          // A late or repeated on_play / update_play of a play that has ended (play_done, or a page without it).
          this.count('stale_event');
        } else {
          this.admit(project, domain, e.app, e.stream);
          const geo = e.addr ? this.options.geo(e.addr) : { region: 'OT' as Region, isp: 'OTHER' as Isp };
          const play: PlaySession = {
            project, id: `${e.origin}|${e.clientId}|${at}`, domain, app: e.app, stream: e.stream, clientIp: e.addr,
            region: geo.region, isp: geo.isp, start: at, end: null, updatedAt: at,
          };
          this.put(this.plays, key, { key, origin: e.origin, play, seenAt: at, pendingUntil: at + PLAY_PENDING_MS });
          batch.plays?.push(play);
        }
      } else if (known) {
        this.drop(this.plays, key);
        this.markEnded(`play:${key}`, at);
        this.endPlay(batch, { ...known.play, end: Math.max(at, known.play.start), updatedAt: at });
      } else {
        this.count('unknown_session');
      }
    }
    return batch;
  }

  /**
   * Kept in time order (a key ended again moves to the end), so the oldest are first: forgetting
   * those past ENDED_KEEP_MS, or beyond ENDED_KEPT, looks at the map's head only.
   */
  private markEnded(key: string, at: number): void {
    this.drop(this.vanished, key);
    this.keepInOrder(this.ended, key, at, (t) => t, at);
  }

  /** A session a page closed by not showing it (see `vanished`), kept like `ended`. */
  private markVanished(l: Live, at: number): void {
    this.keepInOrder(this.vanished, l.key, l, (v) => v.session.updatedAt, at);
  }

  /** Sets key (moved to the end) and forgets the head entries older than ENDED_KEEP_MS or beyond ENDED_KEPT. */
  private keepInOrder<V>(map: ShardedMap<V>, key: string, value: V, timeOf: (v: V) => number, at: number): void {
    this.drop(map, key);
    this.put(map, key, value);
    for (const [k, v] of map) {
      if (timeOf(v) >= at - ENDED_KEEP_MS && map.size <= ENDED_KEPT) break;
      this.drop(map, k);
    }
  }

  /** Ended by a notification after this poll was requested: the page still showing it is stale. */
  private endedSince(key: string, requestedAt: number): boolean {
    const t = this.ended.get(key);
    return t !== undefined && t >= requestedAt;
  }

  /** The play's closing row and its audience cells, in the same write (merged with other plays' by AUDIENCE_MERGE). */
  private endPlay(batch: OriginBatch, play: PlaySession & { end: number }): void {
    batch.plays?.push(play);
    let run = this.audienceRun.get(batch);
    if (!run) {
      run = [];
      this.audienceRun.set(batch, run);
    }
    run.push(playAudience(play));
    if (run.length >= AUDIENCE_MERGE) this.finishAudience(batch);
  }

  /** Puts the batch's waiting audience cells into its audience, one entry per run of one project (in order). */
  private finishAudience(batch: OriginBatch): void {
    const run = this.audienceRun.get(batch);
    if (!run) return;
    this.audienceRun.delete(batch);
    (batch.audience ??= []).push(...mergeAudience(run));
  }

  /** Applies a poll in steps of `slice` clients and streams (a yield between steps: see sliced()). */
  private *applySnapshot(s: Snapshot, slice: number): Generator<void, OriginBatch> {
    const batch: OriginBatch = { sessions: [], upBytes: [], plays: [] };
    this.polled.add(originKey(s.project, s.origin));
    const seen = new ShardedKeySet();
    const seenPlays = new ShardedKeySet();
    let units = 0;
    for (const st of s.streams) {
      if (++units % slice === 0) yield;
      // A name the query parameters refuse (a '/', a control character, empty) could never be asked for.
      if (!isStreamName(st.app) || !isStreamName(st.name)) {
        this.count('bad_name');
        continue;
      }
      const publisher = st.clients.find((c) => c.publishing);
      const publisherKey = publisher ? liveKey(s.project, s.origin, publisher.id, st.app, st.name) : '';
      if (publisher && (this.live.has(publisherKey) || !this.endedSince(publisherKey, s.requestedAt))) {
        const key = publisherKey;
        let l = this.live.get(key);
        if (!l && !this.admits(s.project, s.domain, st.app, st.name)) {
          this.count('stream_limit');
          continue;
        }
        const impliedStart = s.at - this.age(publisher.timeMs);
        const gone = l ? undefined : this.vanished.get(key);
        if (gone) {
          this.drop(this.vanished, key);
          if (impliedStart <= gone.seenAt + SAME_CONNECTION_MS) {
            // The connection a page closed is publishing: the page that lacked it was read before
            // nginx made its publish live (see `vanished`). The same session goes on.
            l = { ...gone, session: { ...gone.session, end: null } };
            this.put(this.live, key, l);
          }
        }
        if (l && impliedStart > l.seenAt + SAME_CONNECTION_MS) {
          // The origin restarted and reused the connection number: the old session ended when last seen.
          batch.sessions.push({ ...l.session, end: Math.max(l.seenAt, l.session.start), updatedAt: s.at });
          this.drop(this.live, key);
          l = undefined;
        }
        if (!l) {
          const type = this.typeOf(publisher.flashver, publisher.address);
          // The connection published again after its publish_done: the new session starts after the old one ended.
          const start = Math.max(impliedStart, this.ended.get(key) ?? impliedStart);
          l = this.open(s.project, s.origin, publisher.id, st.app, st.name, publisher.address, s.domain, type, start, s.at);
        }
        seen.add(key);
        const previous = l.session.bytesIn;
        // An unreadable counter (not a whole number up to 2^53 - 1) counts nothing this poll; the next readable one counts the growth since the last.
        const bytesIn = st.bytesIn ?? previous;
        if (st.bytesIn === undefined) this.count('bad_counter');
        const delta = bytesIn >= previous ? bytesIn - previous : bytesIn;
        const from = Math.max(Math.min(l.bytesAt, s.at), s.at - MAX_CLIENT_AGE_MS);
        for (const part of spreadBytes(delta, from, s.at)) {
          const row: UpBytesRow = {
            project: s.project, domain: l.session.domain, app: st.app, stream: st.name, region: l.session.region, isp: l.session.isp,
            type: l.session.type, slot: part.slot, bytes: part.bytes,
          };
          batch.upBytes.push(row);
        }
        // The growth over the origin's own clock (the stream's time on both pages): a page read late
        // by a busy livestats (or a busy network) does not stretch or shrink the interval. Without
        // it (the stream restarted, no time on the page), over the times the pages were read.
        const streamMs = l.polledStreamMs !== undefined && l.polledStreamMs > 0 && st.timeMs > l.polledStreamMs ? st.timeMs - l.polledStreamMs : 0;
        const bitrate = st.bytesIn === undefined ? l.session.bitrate
          : l.polledBytes !== undefined && streamMs > 0 ? Math.round((delta * 8) / streamMs)
            : l.polledBytes !== undefined && s.at > l.bytesAt ? Math.round((delta * 8) / (s.at - l.bytesAt))
              : Math.round(st.bwIn / 1000) || l.session.bitrate;
        const session: PublishSession = {
          ...l.session,
          videoCodec: st.videoCodec || l.session.videoCodec, audioCodec: st.audioCodec || l.session.audioCodec,
          frameRate: st.frameRate || l.session.frameRate, width: st.width || l.session.width, height: st.height || l.session.height,
          bitrate, bytesIn, updatedAt: s.at,
        };
        this.put(this.live, key, st.bytesIn === undefined ? { ...l, session, seenAt: s.at } : { ...l, session, seenAt: s.at, bytesAt: s.at, polledBytes: bytesIn, polledStreamMs: st.timeMs });
        batch.sessions.push(session);
      }
      for (const c of st.clients) {
        if (++units % slice === 0) yield;
        if (c.publishing || isRelayFlashver(c.flashver)) continue;
        const key = liveKey(s.project, s.origin, c.id, st.app, st.name);
        seenPlays.add(key);
        const known = this.plays.get(key);
        if (!known && this.endedSince(`play:${key}`, s.requestedAt)) continue;
        if (known) {
          // Refreshed in the store at most once a minute: after a restart a play the page no longer shows ends then.
          const play = s.at - known.play.updatedAt >= PLAY_REFRESH_MS ? { ...known.play, updatedAt: s.at } : known.play;
          if (play !== known.play) batch.plays?.push(play);
          this.put(this.plays, key, { key, origin: known.origin, play, seenAt: s.at });
          continue;
        }
        const domain = publisher ? (this.live.get(liveKey(s.project, s.origin, publisher.id, st.app, st.name))?.session.domain ?? s.domain) : s.domain;
        if (!this.admits(s.project, domain, st.app, st.name)) {
          this.count('stream_limit');
          continue;
        }
        const start = s.at - this.age(c.timeMs);
        const geo = c.address ? this.options.geo(c.address) : { region: 'OT' as Region, isp: 'OTHER' as Isp };
        const play: PlaySession = {
          project: s.project, id: `${s.origin}|${c.id}|${start}`, domain,
          app: st.app, stream: st.name, clientIp: c.address, region: geo.region, isp: geo.isp, start, end: null, updatedAt: s.at,
        };
        this.put(this.plays, key, { key, origin: s.origin, play, seenAt: s.at });
        batch.plays?.push(play);
      }
    }
    // Open sessions of this origin the page no longer shows have ended.
    const here = originKey(s.project, s.origin);
    for (const l of this.live.entriesOf(here)) {
      if (++units % slice === 0) yield;
      if (seen.has(l.key)) continue;
      if (l.seenAt > s.requestedAt) continue; // opened by a notification while the page was fetched
      const end = l.seenAt >= this.startedAt ? s.at : l.seenAt;
      this.drop(this.live, l.key);
      const closed = { ...l.session, end: Math.max(end, l.session.start), updatedAt: s.at };
      this.markVanished({ ...l, session: closed }, s.at);
      batch.sessions.push(closed);
    }
    for (const p of this.plays.entriesOf(here)) {
      if (++units % slice === 0) yield;
      if (seenPlays.has(p.key) || p.seenAt > s.requestedAt) continue;
      if (p.pendingUntil !== undefined && s.requestedAt < p.pendingUntil) continue;
      const end = p.seenAt >= this.startedAt ? s.at : p.seenAt;
      this.drop(this.plays, p.key);
      this.markEnded(`play:${p.key}`, s.at);
      this.endPlay(batch, { ...p.play, end: Math.max(end, p.play.start), updatedAt: s.at });
    }
    return batch;
  }
}
