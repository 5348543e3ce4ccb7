import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../bench/lib/rng.js';
import { AudienceCounter } from '../src/ingest/audience/audience-counter.js';
import { packGeo } from '../src/ingest/geo/names.js';
import type { Isp, Region } from '../src/contract/values.js';
import type { AudienceProtocol, PlayInfoRow, UsersFilter } from '../src/store/audience.js';
import { blockInfo } from '../src/store/blocks/codec.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { AUDIENCE_STREAMS } from '../src/store/sqlite/audience-layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { Store } from '../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { tempDir } from './ingest-helpers.js';
import { batch } from './store-conformance.js';

/**
 * FLV/RTMP sessions stored as opens and closes with a base at each quarter-hour (schema v12,
 * ClickHouse 010; src/store/audience-flv.ts) against a naive model that adds each session to every
 * minute it overlaps: random sessions (zero length to 8 hours, across quarter-hours, hours and UTC
 * midnight), random batch splits, two SQLite stores on one file (as two processes), ClickHouse
 * batches retried as an attempt in doubt is: the same answers on every endpoint's store read.
 */
requireTools('clickhouse-server');

const M = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;
const D = Date.UTC(2026, 10, 20);
const DOMAIN = 'flv.example.com';
const STREAMS = ['s0', 's1', 's2'];
const GEOS: Array<[Region, Isp]> = [['GD', 'CTCC'], ['BJ', 'CMCC'], ['OT', 'OTHER']];
const PROTOCOLS = [0, 2]; // flv, rtmp

interface Session { stream: number; protocol: number; geo: number; end: number; durationMs: number }

function randomSessions(n: number, seed: number): Session[] {
  const rand = seeded(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)] as T;
  return Array.from({ length: n }, () => {
    const kind = Math.floor(rand() * 5);
    const durationMs = [0, Math.floor(rand() * 59_999), Math.floor(rand() * 20 * M), Math.floor(rand() * 8 * H), Math.floor(rand() * 3) * 15 * M][kind] as number;
    // Ends from 02:00 on day D to 06:00 on D + 1 (sessions cross midnight), some exactly on a minute or a quarter-hour.
    let end = D + 2 * H + Math.floor(rand() * 28 * H);
    const edge = rand();
    if (edge < 0.2) end = Math.floor(end / (15 * M)) * 15 * M;
    else if (edge < 0.4) end = Math.floor(end / M) * M;
    return { stream: Math.floor(rand() * STREAMS.length), protocol: pick(PROTOCOLS), geo: Math.floor(rand() * GEOS.length), end, durationMs };
  });
}

/** The minutes a session covers ([first, last]) as audience-api.md defines them. */
function span(s: Session): [number, number] {
  const first = Math.floor((s.end - s.durationMs) / M);
  const last = s.durationMs > 0 ? Math.ceil(s.end / M) - 1 : Math.floor(s.end / M);
  return [first, last];
}

/** The naive model: per minute, every session overlapping it. */
class Naive {
  constructor(private readonly sessions: Session[]) {}
  viewers(minute: number, match: (s: Session) => boolean = () => true): number {
    let n = 0;
    for (const s of this.sessions) {
      const [first, last] = span(s);
      if (match(s) && first <= minute && minute <= last) n++;
    }
    return n;
  }
  playMs(day: number, match: (s: Session) => boolean): number {
    let ms = 0;
    for (const s of this.sessions) if (match(s)) ms += Math.max(0, Math.min(s.end, day + DAY) - Math.max(s.end - s.durationMs, day));
    return ms;
  }
}

/** Cells of some sessions as one ingest batch drains them. */
function drained(sessions: Session[]): ReturnType<AudienceCounter['drain']> {
  const c = new AudienceCounter();
  for (const s of sessions) {
    const [region, isp] = GEOS[s.geo] as [Region, Isp];
    c.session(s.stream, s.protocol, packGeo(region, isp), s.end, s.durationMs, 1000);
  }
  return c.drain(STREAMS.map(() => DOMAIN), STREAMS.map(() => 'live'), STREAMS);
}

const users = (f: Partial<UsersFilter>): UsersFilter => ({
  project: 'p1', domain: DOMAIN, app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [],
  slotMs: M, from: D - 8 * H, to: D + 31 * H, ...f,
});

const dir = tempDir('audience-sessions');
let ch: ClickHouseServer;
beforeAll(async () => {
  ch = await startClickHouse();
}, 120_000);
afterAll(async () => {
  await ch?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function expectNaive(store: Store, naive: Naive, rand: () => number): Promise<void> {
  const protocolOf = (p: AudienceProtocol): number => ['flv', 'hls', 'rtmp'].indexOf(p);
  const filters: Array<[Partial<UsersFilter>, (s: Session) => boolean]> = [
    [{}, () => true],
    [{ protocol: 'flv' }, (s) => s.protocol === 0],
    [{ protocol: 'rtmp' }, (s) => s.protocol === 2],
    [{ protocol: 'hls' }, () => false],
    [{ regions: ['GD'] }, (s) => s.geo === 0],
    [{ isps: ['CMCC', 'OTHER'] }, (s) => s.geo > 0],
    [{ app: 'live', stream: 's1' }, (s) => s.stream === 1],
    [{ stream: 's2', regions: ['BJ'], isps: ['CMCC'] }, (s) => s.stream === 2 && s.geo === 1],
  ];
  for (const [f, match] of filters) {
    const q = users(f);
    // A window starting mid-quarter-hour: its first minutes need the block's opens before it.
    const from = q.from + 7 * M;
    const got = await store.usersSeries({ ...q, from, to: q.to - 3 * M });
    const want = Float64Array.from({ length: (q.to - 3 * M - from) / M }, (_, i) => naive.viewers(from / M + i, match));
    expect([...got], JSON.stringify(f)).toEqual([...want]);
    const peaks = await store.usersSeries({ ...q, slotMs: 5 * M });
    const wantPeaks = Float64Array.from({ length: (q.to - q.from) / (5 * M) }, (_, i) => {
      let p = 0;
      for (let j = 0; j < 5; j++) p = Math.max(p, naive.viewers(q.from / M + i * 5 + j, match));
      return p;
    });
    expect([...peaks], `300 s ${JSON.stringify(f)}`).toEqual([...wantPeaks]);
  }
  for (let k = 0; k < 6; k++) {
    const minute = Math.floor((D + 2 * H + rand() * 26 * H) / M);
    const rows: PlayInfoRow[] = await store.playInfo({ project: 'p1', domains: [DOMAIN], minute: minute * M });
    const online = (stream: string, p: AudienceProtocol): number => rows.find((r) => r.stream === stream && r.protocol === p)?.online ?? 0;
    for (const [i, stream] of STREAMS.entries()) {
      for (const p of ['flv', 'rtmp'] as const) {
        expect(online(stream, p), `${minute} ${stream} ${p}`).toBe(naive.viewers(minute, (s) => s.stream === i && s.protocol === protocolOf(p)));
      }
    }
  }
  for (const day of [D - DAY, D, D + DAY]) {
    for (const stream of [undefined, 's0']) {
      const match = (s: Session): boolean => stream === undefined || s.stream === 0;
      const got = await store.streamPortrait({ project: 'p1', domain: DOMAIN, stream, day });
      let peak = 0;
      for (let m = day / M; m < (day + DAY) / M; m++) peak = Math.max(peak, naive.viewers(m, match));
      expect(got.peakUsers, `peak ${day} ${stream}`).toBe(peak);
      expect(got.playSeconds, `play ${day} ${stream}`).toBe(Math.round(naive.playMs(day, match) / 1000));
    }
  }
}

describe('FLV/RTMP sessions as opens and closes', () => {
  it('answer as the naive per-minute model: random sessions, random batch splits, two SQLite writers, ClickHouse retries', async () => {
    for (const seed of [1, 2]) {
      const rand = seeded(100 + seed);
      const sessions = randomSessions(120, seed);
      const naive = new Naive(sessions);
      const file = join(dir, `property-${seed}.db`);
      const a = new SqliteStore(file);
      const b = new SqliteStore(file);
      const c = new ClickHouseStore({ url: ch.url(`audience_sessions_${seed}`) });
      for (const s of [a, b, c]) await s.init();
      try {
        // Random splits: the same sessions in batches of 1 to 40, in shuffled order.
        const order = [...sessions].sort(() => rand() - 0.5);
        for (let i = 0; i < order.length;) {
          const n = 1 + Math.floor(rand() * 40);
          const part = order.slice(i, i + n);
          i += n;
          const w = batch({ audience: [{ project: 'p1', cells: drained(part) }] });
          await (rand() < 0.5 ? a : b).write(w);
          await c.write(w);
          // An attempt in doubt is sent again as a retry: its markers make it count once.
          if (rand() < 0.4) await c['audience'].write(w.id, w.audience ?? [], true);
        }
        await expectNaive(a, naive, rand);
        await expectNaive(c, naive, rand);
      } finally {
        for (const s of [a, b, c]) await s.close();
      }
    }
  }, 300_000);

  it('a 6-hour session is stored as a few cells per block it spans, not one per minute (both stores)', async () => {
    // 12:00:30 to 18:00:30: minutes 12:00 to 18:00 (361), 25 quarter-hour blocks.
    const session: Session = { stream: 0, protocol: 0, geo: 0, end: D + 18 * H + 30_000, durationMs: 6 * H };
    const blocks = 25;
    const sqlite = new SqliteStore(join(dir, 'six-hours.db'));
    const c = new ClickHouseStore({ url: ch.url('audience_six_hours') });
    for (const s of [sqlite, c]) await s.init();
    try {
      const w = batch({ audience: [{ project: 'p1', cells: drained([session]) }] });
      await sqlite.write(w);
      await c.write(w);
      // Every stored cell of the stream's total level (one series, one group).
      const level = AUDIENCE_STREAMS.levelFor([[], []]);
      const rows = sqlite['db'].prepare(`SELECT data FROM ${level.table.name}`).pluck().all() as Uint8Array[];
      const cells = rows.reduce((n, data) => n + blockInfo(data).cells, 0);
      expect(rows.length).toBeLessThanOrEqual(blocks + 1);
      expect(cells).toBeLessThanOrEqual(blocks + 2);
      const chRows = Number(await ch.sql("SELECT count() FROM audience_six_hours.audience_sessions WHERE batch = ''"));
      expect(chRows).toBeLessThanOrEqual(blocks + 1);
      const naive = new Naive([session]);
      for (const store of [sqlite, c]) {
        const got = await store.usersSeries(users({ from: D + 11 * H, to: D + 19 * H }));
        expect([...got]).toEqual(Array.from({ length: 8 * 60 }, (_, i) => naive.viewers((D + 11 * H) / M + i)));
      }
    } finally {
      for (const s of [sqlite, c]) await s.close();
    }
  }, 120_000);
});
