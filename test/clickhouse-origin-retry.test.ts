import { describe, expect, it } from 'vitest';
import { OriginTracker, OriginWriteHeld } from '../src/origin/tracker.js';
import type { OriginEvent } from '../src/origin/events.js';
import type { StatStream } from '../src/origin/stat-xml.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { useClickHouseBehindProxy } from './helpers/clickhouse-proxy.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SLOT = 300_000;
const T0 = Date.UTC(2026, 10, 20);
const DOMAIN = 'push.example.com';

const geo = (): { region: 'GD'; isp: 'CTCC' } => ({ region: 'GD', isp: 'CTCC' });
const stream = (bytesIn: number): StatStream => ({
  app: 'live', name: 's1', timeMs: 1000, bytesIn, bwIn: 0, videoCodec: 'H264', audioCodec: 'AAC', width: 1280, height: 720, frameRate: 30,
  clients: [{ id: '7', address: '10.1.1.1', timeMs: 60_000, flashver: 'FMLE/3.0', publishing: true }],
});
const ev = (kind: OriginEvent['kind'], more: Partial<OriginEvent> = {}): OriginEvent => ({
  kind, origin: 'o1', clientId: '55', app: 'live', stream: 's1', addr: '192.0.2.10', domain: DOMAIN, flashver: 'LNX 9,0,124,2', ...more,
});

/**
 * An origin batch (sessions, input bytes in two summing tables, plays, their audience cells) is several
 * INSERTs on ClickHouse: a write that fails part-way is held by the tracker and sent again with the same
 * id, and what landed the first time is never added again. Faults are injected by a real proxy in front
 * of a real clickhouse-server (test/harness/faulty-proxy.ts): it refuses, or forwards and then loses the
 * answer of, the Nth INSERT into one table.
 */
describe('ClickHouse: an origin batch is stored exactly once whatever part of a failed write landed', () => {
  const env = useClickHouseBehindProxy();
  let db = 0;

  const open = async (): Promise<ClickHouseStore> => {
    const store = new ClickHouseStore({ url: `${env.proxy.url.replace('http://', 'http://default:@')}/origin_retry_${++db}` });
    env.proxy.policy = () => 'pass';
    await store.init();
    return store;
  };
  /** The first INSERT into `table` from now on fails so; the returned function tells whether it has. */
  const inserts = (table: string, fault: 'refuse' | 'drop-response'): () => boolean => {
    let done = false;
    const into = new RegExp(`^INSERT INTO \\S*\\b${table}\\b`);
    env.proxy.policy = (body) => {
      if (done || !into.test(body)) return 'pass';
      done = true;
      return fault;
    };
    return () => done;
  };

  it('input bytes: an insert into one summing table refused or answered-and-lost after the other landed', async () => {
    const store = await open();
    let now = T0 + 60_000;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    const poll = (bytes: number): Promise<void> => t.snapshot({ project: 'p', origin: 'o1', domain: DOMAIN, requestedAt: now - 10, at: now, streams: [stream(bytes)] });
    const totals = async (): Promise<[number, number]> => {
      const f = { project: 'p', domains: [DOMAIN], regions: [], isps: [], type: 0 as const, slotMs: SLOT, from: T0, to: T0 + SLOT };
      // With a stream: origin_up_bytes; without: the per-domain pre-aggregate origin_up_domain.
      const perStream = (await store.upBytesSeries({ ...f, app: 'live', stream: 's1' })).reduce((a, b) => a + b, 0);
      const perDomain = (await store.upBytesSeries(f)).reduce((a, b) => a + b, 0);
      return [perStream, perDomain];
    };
    await poll(1000);
    now += 10_000;
    // origin_up_bytes lands, origin_up_domain is refused: the poll is held.
    const refused = inserts('origin_up_domain', 'refuse');
    await expect(poll(3000)).rejects.toBeInstanceOf(OriginWriteHeld);
    expect(refused()).toBe(true);
    expect(await totals()).toEqual([3000, 1000]);
    now += 10_000;
    env.proxy.policy = () => 'pass';
    await poll(9000);
    expect(await totals()).toEqual([9000, 9000]);
    now += 10_000;
    // origin_up_bytes commits but its answer is lost.
    const lost = inserts('origin_up_bytes', 'drop-response');
    await expect(poll(12_000)).rejects.toBeInstanceOf(OriginWriteHeld);
    expect(lost()).toBe(true);
    now += 10_000;
    env.proxy.policy = () => 'pass';
    await poll(15_000);
    expect(await totals()).toEqual([15_000, 15_000]);
    await store.close();
  });

  it('a play that ends: its audience cells landed, its users insert refused; the held batch does not add the cells twice', async () => {
    const store = await open();
    let now = T0 + 30_000;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    await t.event('p', ev('play'));
    now = T0 + 150_000;
    const refused = inserts('audience_users', 'refuse');
    await expect(t.event('p', ev('play_done'))).rejects.toBeInstanceOf(OriginWriteHeld);
    expect(refused()).toBe(true);
    env.proxy.policy = () => 'pass';
    now += 1000;
    // The next operation sends the held batch first (nginx sends no retry of a notification).
    await t.event('p', ev('play_done'));
    const day = await store.streamPortrait({ project: 'p', domain: DOMAIN, stream: 's1', day: T0 });
    expect(day).toMatchObject({ users: 1, playSeconds: 120, peakUsers: 1 });
    const users = await store.usersSeries({
      project: 'p', domain: DOMAIN, app: 'live', stream: 's1', protocol: 'rtmp', regions: [], isps: [], slotMs: 60_000, from: T0, to: T0 + 4 * 60_000,
    });
    expect([...users]).toEqual([1, 1, 1, 0]);
    expect((await store.playSessions('p', T0, T0 + 3_600_000)).map((p) => [p.start, p.end])).toEqual([[T0 + 30_000, T0 + 150_000]]);
    await store.close();
  });

  it('while the held batch still fails, a new operation is refused and never counted later', async () => {
    const store = await open();
    let now = T0 + 60_000;
    const t = new OriginTracker({ store, geo, now: () => now });
    await t.restore();
    const poll = (bytes: number): Promise<void> => t.snapshot({ project: 'p', origin: 'o1', domain: DOMAIN, requestedAt: now - 10, at: now, streams: [stream(bytes)] });
    await poll(1000);
    now += 10_000;
    env.proxy.policy = (body) => (body.startsWith('INSERT') ? 'refuse' : 'pass');
    await expect(poll(3000)).rejects.toBeInstanceOf(OriginWriteHeld);
    now += 10_000;
    const refused = poll(5000);
    await expect(refused).rejects.toThrow();
    await expect(refused).rejects.not.toBeInstanceOf(OriginWriteHeld);
    await expect(t.event('p', ev('publish', { clientId: '9', stream: 's2' }))).rejects.not.toBeInstanceOf(OriginWriteHeld);
    expect(t.openSessions().map((s) => s.stream)).toEqual(['s1']);
    env.proxy.policy = () => 'pass';
    now += 10_000;
    await poll(9000);
    const f = { project: 'p', domains: [DOMAIN], regions: [], isps: [], type: 0 as const, slotMs: SLOT, from: T0, to: T0 + SLOT };
    expect((await store.upBytesSeries(f)).reduce((a, b) => a + b, 0)).toBe(9000);
    expect((await store.liveStreams({ project: 'p', domain: DOMAIN, offset: 0, limit: 10 })).sessions.map((s) => s.stream)).toEqual(['s1']);
    await store.close();
  });
});
