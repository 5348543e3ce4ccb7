import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../paths.js';
import { mergeAudience } from '../store/audience-merge.js';
import type { OriginBatch, PlaySession } from '../store/origin.js';
import { SqliteStore } from '../store/sqlite/store.js';
import { WriteThread } from '../store/sqlite/write-thread.js';
import type { OriginEvent } from './events.js';
import type { StatClient, StatStream } from './stat-xml.js';
import { OriginTracker, playAudience, type Snapshot } from './tracker.js';

const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-slices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const T0 = Date.UTC(2026, 10, 20, 12);
/** The write thread runs the compiled worker (npm test builds first), as `livestats serve` does. */
const workerUrl = new URL(`file://${join(projectRoot(), 'dist', 'src', 'store', 'sqlite', 'write-worker.js')}`);
beforeAll(() => {
  if (!existsSync(workerUrl)) throw new Error('run `npm run build` before this test');
});

const geo = (ip: string): { region: 'GD' | 'BJ'; isp: 'CTCC' | 'CMCC' } => (ip.endsWith('7') ? { region: 'BJ', isp: 'CMCC' } : { region: 'GD', isp: 'CTCC' });
const publisher = (id: string, timeMs: number): StatClient => ({ id, address: `10.1.1.${id.length}`, timeMs, flashver: 'FMLE/3.0', publishing: true });
const player = (id: number, timeMs: number): StatClient => ({ id: String(id), address: `192.0.2.${id % 250}`, timeMs, flashver: 'LNX 9,0,124,2', publishing: false });
/** `streams` streams of `players` players each (client ids unique on the page). */
const streams = (count: number, players: number, bytes: number, age: number): StatStream[] => Array.from({ length: count }, (_, s) => ({
  app: 'live', name: `s${s}`, timeMs: age, bytesIn: bytes + s, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30,
  clients: [publisher(`p${s}`, 60_000 + age), ...Array.from({ length: players }, (_, c) => player(1000 + s * players + c, 30_000 + c * 17 + age))],
}));
const snap = (at: number, ss: StatStream[]): Snapshot => ({ project: 'p', origin: 'o1', domain: 'push.example.com', requestedAt: at - 10, at, streams: ss });
const ev = (kind: OriginEvent['kind'], more: Partial<OriginEvent> = {}): OriginEvent => ({
  kind, origin: 'o1', clientId: 'p1', app: 'live', stream: 's1', addr: '10.1.1.2', domain: 'push.example.com', flashver: 'FMLE/3.0', ...more,
});

/** Every row of every table of a store's file, sorted (the stored results, whole). */
function tables(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const t of names) {
      if (t === 'meta' || t === 'schema_migrations') continue; // the file's own settings and history (times it was created)
      out[t] = (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][]).map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

async function sqlite(thread: boolean): Promise<{ store: SqliteStore; file: string; thread?: WriteThread }> {
  const file = join(dir, `s${++n}.db`);
  let w: WriteThread | undefined;
  const store = new SqliteStore(file, thread ? { writer: (f) => (w = new WriteThread(f, workerUrl)) } : {});
  await store.init();
  return { store, file, ...(w ? { thread: w } : {}) };
}

describe('a poll applied in slices', () => {
  it('lets the event loop turn between slices, holds notifications until it ends, and stores exactly what an apply in one step stores', async () => {
    // The same operations on two trackers: `whole` applies each poll in one step (a slice bigger than any page), `sliced` in steps of 50.
    const whole = await sqlite(false);
    const sliced = await sqlite(true);
    let now = T0;
    const tw = new OriginTracker({ store: whole.store, geo, now: () => now, applySlice: 1e9 });
    const ts = new OriginTracker({ store: sliced.store, geo, now: () => now, applySlice: 50 });
    await tw.restore();
    await ts.restore();
    const polls = [
      streams(20, 150, 1_000_000, 0), // 3,020 clients, all new
      streams(20, 150, 9_000_000, 70_000), // a minute later: every play refreshed
      streams(12, 0, 17_000_000, 140_000), // players gone (3,000 plays end), 8 publishers gone
      [],
    ];
    for (const [i, page] of polls.entries()) {
      now += i === 0 ? 0 : 70_000;
      await tw.snapshot(snap(now, page));
      if (i === 1) await tw.event('p', ev('publish_done'));
      const slicesBefore = ts.slices;
      // A setImmediate scheduled with the poll: it runs while the poll is being applied, before anything of it is written.
      const writes = sliced.thread as WriteThread;
      const postedBefore = writes.partsPosted;
      let turned: { slices: number; plays: number } | undefined;
      const polling = ts.snapshot(snap(now, page));
      setImmediate(() => {
        turned = { slices: ts.slices - slicesBefore, plays: (ts as unknown as { plays: { size: number } }).plays.size };
      });
      // A notification sent meanwhile waits in the queue: applied after the poll, as on `whole`.
      const notified = i === 1 ? ts.event('p', ev('publish_done')) : undefined;
      await polling;
      await notified;
      if (page.length > 0) {
        expect(turned, `poll ${i}`).toBeDefined();
        expect(turned?.slices, `poll ${i}`).toBeGreaterThan(0);
        expect(ts.slices - slicesBefore, `poll ${i}`).toBeGreaterThan(40);
      }
      if (i === 0) {
        // Seen part-way: some plays open, not all.
        expect(turned?.plays).toBeGreaterThan(0);
        expect(turned?.plays).toBeLessThan(3000);
      }
      if (i === 0 || i === 2) expect(writes.partsPosted - postedBefore, `poll ${i}`).toBeGreaterThan(1);
      expect(ts.openSessions()).toEqual(tw.openSessions());
    }
    expect(tw.slices).toBe(0);
    expect(ts.openSessions()).toEqual([]);
    await whole.store.close();
    await sliced.store.close();
    const stored = tables(sliced.file);
    expect(stored.origin_plays).toHaveLength(3000);
    // 20 publishers, plus s1 again: its publish_done came while later pages still showed the connection publishing, and
    // the pages decide (tracker-order.test.ts), so the page opens a session from the notified end.
    expect(stored.origin_sessions).toHaveLength(21);
    expect(stored.aud_user_counts?.length ?? 0).toBeGreaterThan(0);
    expect(stored).toEqual(tables(whole.file));
  });

  it('audience cells of many plays merged into one entry are stored exactly as one entry per play', async () => {
    const plays: Array<PlaySession & { end: number }> = Array.from({ length: 700 }, (_, i) => ({
      project: i % 50 < 45 ? 'p' : 'q', id: `o1|${i}|${T0 + i}`, domain: `d${i % 3}.example.com`, app: 'live', stream: `s${i % 7}`,
      clientIp: i % 11 === 0 ? `2001:db8::${i}` : i % 13 === 0 ? '' : `192.0.2.${i % 9}`, region: 'GD', isp: 'CTCC',
      start: T0 - (i % 100 === 0 ? 13 * 3_600_000 : (i % 5) * 600_000) - i * 7_001, end: T0 + i * 1_337, updatedAt: T0 + i * 1_337,
    }));
    const each = plays.map(playAudience);
    const merged = mergeAudience(each);
    expect(merged.map((m) => m.project)).toEqual(Array.from({ length: 28 }, (_, i) => (i % 2 === 0 ? 'p' : 'q')));
    const a = await sqlite(false);
    const b = await sqlite(false);
    const batch = (audience: OriginBatch['audience']): OriginBatch => ({ sessions: [], upBytes: [], plays, ...(audience ? { audience } : {}) });
    await a.store.writeOrigin(batch(each));
    await b.store.writeOrigin(batch(merged));
    await a.store.close();
    await b.store.close();
    const stored = tables(b.file);
    expect(stored.aud_user_counts?.length ?? 0).toBeGreaterThan(0);
    const want = tables(a.file);
    for (const t of Object.keys(want)) expect(stored[t], t).toEqual(want[t]);
    expect(stored).toEqual(want);
  });
});
