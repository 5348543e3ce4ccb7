import { rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { startServer, type RunningServer } from '../src/server.js';
import { HTTP_CUBE } from '../src/store/sqlite/layout.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { HttpCodesFilter } from '../src/store/types.js';
import { accessLine, tempDir, waitFor } from './ingest-helpers.js';

// Per-project bounds on names and the playback series id space, over real HTTP into real SQLite
// files (src/ingest/name-limits.ts, src/store/sqlite/series-ids.ts, docs/storage.md).

const dir = tempDir('caps');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const now = (): number => Date.now() - 60_000;

async function serve(data: string, flags: Record<string, string> = {}): Promise<RunningServer> {
  writeFileSync(join(dir, 'geo.csv'), '127.0.0.1/32,SH,CTCC\n');
  const config = resolveServeConfig({ port: '0', data, 'log-level': 'silent', 'geo-overrides': join(dir, 'geo.csv'), ...flags }, {});
  return startServer(config, { authenticate: allowAll });
}

interface Answer { status: number; body: { accepted?: number; dropped?: Record<string, number>; error_code?: string; error_msg?: string } }

async function post(server: RunningServer, project: string, lines: string[]): Promise<Answer> {
  const res = await fetch(`${server.url}/ingest/v1/${project}/access-logs?format=combined_host`, {
    method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'text/plain' },
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function postSamples(server: RunningServer, project: string, task: string): Promise<Answer> {
  const second = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const res = await fetch(`${server.url}/ingest/v1/${project}/carousel-tasks/${task}/samples`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ time: formatUtcSecond(second), video_fps: 25, video_kbps: 1500, audio_fps: 43, audio_kbps: 128 }]),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

async function requests(server: RunningServer, project: string, domain: string): Promise<number> {
  const res = await fetch(`${server.url}/v2/${project}/stats/httpcodes?play_domains=${domain}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
  let n = 0;
  for (const s of body.data_series) for (const c of s.http_codes) n += c.count;
  return n;
}

const line = (domain: string, path?: string): string => accessLine(now(), { host: domain, ...(path ? { path } : {}) });

describe('per-project caps on domains, streams and carousel tasks', () => {
  const data = join(dir, 'caps');
  let server: RunningServer;
  const flags = { 'max-domains': '3', 'max-streams': '4', 'max-carousel-tasks': '2' };
  beforeAll(async () => {
    server = await serve(data, flags);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('drops lines naming a new domain beyond the cap (counted), never the rest of the batch or another tenant', async () => {
    const a = await post(server, 'pa', ['d0', 'd1', 'd0', 'd2', 'd3', 'd4', 'd1'].map((d) => line(`${d}.example.com`)));
    expect(a.status).toBe(200);
    expect(a.body.accepted).toBe(5);
    expect(a.body.dropped).toEqual({ domain_limit: 2 });
    // Another project has its own cap.
    const b = await post(server, 'pb', ['e0', 'e1', 'e2'].map((d) => line(`${d}.example.com`)));
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ accepted: 3, dropped: {} });
    expect(await requests(server, 'pa', 'd0.example.com')).toBe(2);
    expect(await requests(server, 'pa', 'd3.example.com')).toBe(0);
    expect(await requests(server, 'pb', 'e2.example.com')).toBe(1);
  });

  it('drops lines naming a new stream beyond the cap', async () => {
    const paths = ['/live/s0.flv', '/live/s1.flv', '/live/s2.flv', '/live/s3.flv', '/live/s4.flv', '/live/s0.flv', '/live/s5.flv'];
    const r = await post(server, 'pc', paths.map((p) => line('streams.example.com', p)));
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(5);
    expect(r.body.dropped).toEqual({ stream_limit: 2 });
  });

  it('refuses a new carousel task beyond the cap with the contract envelope', async () => {
    expect((await postSamples(server, 'pa', 't1')).status).toBe(200);
    expect((await postSamples(server, 'pa', 't2')).status).toBe(200);
    const third = await postSamples(server, 'pa', 't3');
    expect(third.status).toBe(400);
    expect(third.body.error_code).toBe('LIVE.100011001');
    expect(third.body.error_msg).toMatch(/carousel tasks allowed, 2/);
    // Known tasks and other projects are unaffected.
    expect((await postSamples(server, 'pa', 't1')).status).toBe(200);
    expect((await postSamples(server, 'pb', 't3')).status).toBe(200);
  });

  it('holds after a restart: the stored names count', async () => {
    await server.close();
    server = await serve(data, flags);
    const a = await post(server, 'pa', [line('d5.example.com'), line('d1.example.com')]);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ accepted: 1, dropped: { domain_limit: 1 } });
    const c = await post(server, 'pc', [line('streams.example.com', '/live/s9.flv'), line('streams.example.com', '/live/s3.flv')]);
    expect(c.body).toMatchObject({ accepted: 1, dropped: { stream_limit: 1 } });
    expect((await postSamples(server, 'pa', 't4')).status).toBe(400);
    expect((await postSamples(server, 'pa', 't2')).status).toBe(200);
  });
});

describe('syslog (unauthenticated UDP) is held to the same cap', () => {
  it('drops lines naming domains beyond the syslog project\'s cap, counts the rest', async () => {
    const data = join(dir, 'syslog');
    const server = await serve(data, { syslog: 'udp://127.0.0.1:0', 'syslog-project': 'sl', 'max-domains': '2' });
    const sock = createSocket('udp4');
    try {
      const port = server.syslog?.bound[0]?.port;
      for (const d of ['a', 'b', 'c', 'a', 'd']) {
        await new Promise<void>((r) => sock.send(`<190>Nov 23 10:00:00 edge nginx: ${line(`${d}.example.com`)}`, port, '127.0.0.1', () => r()));
      }
      expect(await waitFor(() => (server.syslog?.stats().lines ?? 0) >= 5, 20_000)).toBe(true);
      expect(server.syslog?.stats()).toMatchObject({ lines: 5, accepted: 3, dropped: { domain_limit: 2 } });
      expect(await waitFor(async () => (await requests(server, 'sl', 'a.example.com')) === 2, 20_000)).toBe(true);
      expect(await requests(server, 'sl', 'c.example.com')).toBe(0);
    } finally {
      sock.close();
      await server.close();
    }
  }, 60_000);
});

/** Makes the playback id space look used up: a series row at the highest id the cube can store. */
function fillIdSpace(data: string, live = true): void {
  const db = new Database(join(data, 'livestats.db'));
  try {
    const max = Math.min(...HTTP_CUBE.levels.map((l) => l.table.maxSeries));
    db.prepare(`INSERT INTO ${HTTP_CUBE.seriesTable} (id, key) VALUES (?, ?)`).run(max, JSON.stringify(['filler', 'filler.example.com']));
    // As if it held data of this hour (where the store tracks that), so retention does not reclaim it.
    const columns = (db.prepare(`PRAGMA table_info(${HTTP_CUBE.seriesTable})`).all() as Array<{ name: string }>).map((c) => c.name);
    if (live && columns.includes('last_block')) {
      db.prepare(`UPDATE ${HTTP_CUBE.seriesTable} SET last_block = ? WHERE id = ?`).run(Math.floor(Date.now() / 3_600_000), max);
    }
  } finally {
    db.close();
  }
}

describe('the playback series id space', () => {
  it('when used up, a new domain is a counted drop (200), and other tenants\' data in the same flush is stored', async () => {
    const data = join(dir, 'full');
    const seed = new SqliteStore(join(data, 'livestats.db'));
    await seed.init();
    const minute = Math.floor(now() / 60_000) * 60_000;
    await seed.write({
      id: 'seed', samples: [], tasks: [], checkpoints: [],
      counts: [{ project: 'pb', domain: 'known.example.com', minute, region: 'SH', isp: 'CTCC', code: 200, count: 1 }],
    });
    await seed.close();
    fillIdSpace(data);
    // A long flush interval: both tenants' batches land in one store write.
    const server = await serve(data, { 'flush-interval-ms': '60000' });
    try {
      const [a, b] = await Promise.all([
        post(server, 'pa', [line('new1.example.com'), line('new2.example.com')]),
        post(server, 'pb', [line('known.example.com'), line('known.example.com')]),
      ]);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ accepted: 0, dropped: { id_space_full: 2 } });
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ accepted: 2, dropped: {} });
      expect(await requests(server, 'pb', 'known.example.com')).toBe(3);
      // Still healthy, and later batches are accepted.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await post(server, 'pb', [line('known.example.com')])).body.accepted).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a write naming a domain with no id left stores the rest of the batch instead of failing (store level)', async () => {
    const data = join(dir, 'full-store');
    const store = new SqliteStore(join(data, 'livestats.db'));
    await store.init();
    const minute = Math.floor(now() / 60_000) * 60_000;
    const row = (project: string, domain: string): { project: string; domain: string; minute: number; region: 'SH'; isp: 'CTCC'; code: number; count: number } =>
      ({ project, domain, minute, region: 'SH', isp: 'CTCC', code: 200, count: 1 });
    await store.write({ id: 'one', samples: [], tasks: [], checkpoints: [], counts: [row('pb', 'known.example.com')] });
    await store.close();
    fillIdSpace(data);
    const again = new SqliteStore(join(data, 'livestats.db'));
    await again.init();
    try {
      await again.write({ id: 'two', samples: [], tasks: [], checkpoints: [{ key: 'k', value: 'v' }], counts: [row('pa', 'new.example.com'), row('pb', 'known.example.com')] });
      const f = { project: 'pb', domains: ['known.example.com'], regions: [], isps: [], fromMinute: minute, toMinute: minute + 60_000 };
      expect(await again.queryHttpCodes(f)).toEqual([{ minute, code: 200, count: 2 }]);
      expect(await again.queryHttpCodes({ ...f, project: 'pa', domains: ['new.example.com'] })).toEqual([]);
      expect(await again.getCheckpoint('k')).toBe('v');
      expect(again.skippedRequests).toBe(1);
    } finally {
      await again.close();
    }
  });

  it('a reclaimed id given to a new name never shows the old name\'s data, nor takes it (cached ids are forgotten)', async () => {
    const data = join(dir, 'reuse');
    const store = new SqliteStore(join(data, 'livestats.db'));
    await store.init();
    try {
      const old = Math.floor((Date.now() - 20 * DAY) / 60_000) * 60_000;
      const minute = Math.floor(now() / 60_000) * 60_000;
      const row = (project: string, domain: string, at: number, count: number): { project: string; domain: string; minute: number; region: 'SH'; isp: 'CTCC'; code: number; count: number } =>
        ({ project, domain, minute: at, region: 'SH', isp: 'CTCC', code: 200, count });
      await store.write({ id: 'a', samples: [], tasks: [], checkpoints: [], counts: [row('pa', 'old.example.com', old, 5)] });
      const all = (project: string, domain: string): HttpCodesFilter =>
        ({ project, domains: [domain], regions: [], isps: [], fromMinute: old, toMinute: minute + 60_000 });
      // The reader and the writer now both know old.example.com's id.
      expect(await store.queryHttpCodes(all('pa', 'old.example.com'))).toEqual([{ minute: old, code: 200, count: 5 }]);
      fillIdSpace(data);
      await store.deleteBefore(Date.now() - 8 * DAY);
      // Its id is free again and the id space is full otherwise: the next new domain gets it.
      await store.write({ id: 'b', samples: [], tasks: [], checkpoints: [], counts: [row('pb', 'new.example.com', minute, 7)] });
      expect(await store.queryHttpCodes(all('pb', 'new.example.com'))).toEqual([{ minute, code: 200, count: 7 }]);
      expect(await store.queryHttpCodes(all('pa', 'old.example.com'))).toEqual([]);
      // The old name written again takes no id (none is left) rather than the one it had: nothing of it reaches pb.
      await store.write({ id: 'c', samples: [], tasks: [], checkpoints: [], counts: [row('pa', 'old.example.com', minute, 3)] });
      expect(await store.queryHttpCodes(all('pb', 'new.example.com'))).toEqual([{ minute, code: 200, count: 7 }]);
      expect(store.skippedRequests).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('ids are reclaimed with retention: after old domains expire, new domains get their ids and old names read nothing', async () => {
    const data = join(dir, 'reclaim');
    const seed = new SqliteStore(join(data, 'livestats.db'));
    await seed.init();
    const old = Math.floor((Date.now() - 20 * DAY) / 60_000) * 60_000;
    await seed.write({
      id: 'old', samples: [], tasks: [], checkpoints: [],
      counts: ['o1', 'o2', 'o3'].map((d) => ({ project: 'pa', domain: `${d}.example.com`, minute: old, region: 'SH' as const, isp: 'CTCC' as const, code: 200, count: 5 })),
    });
    await seed.close();
    fillIdSpace(data, false);
    // Retention runs at start (8 days): the old series and the filler have no data left.
    const server = await serve(data);
    try {
      let last: Answer | undefined;
      const accepted = await waitFor(async () => {
        last = await post(server, 'pb', [line('fresh1.example.com'), line('fresh2.example.com')]);
        return last.status === 200 && last.body.accepted === 2;
      }, 30_000, 200);
      expect(last?.body).toMatchObject({ accepted: 2 });
      expect(accepted).toBe(true);
      expect(await requests(server, 'pb', 'fresh1.example.com')).toBeGreaterThanOrEqual(1);
      // The old names' ids now belong to other names: the old names must read nothing of them.
      for (const d of ['o1', 'o2', 'o3']) expect(await requests(server, 'pa', `${d}.example.com`)).toBe(0);
    } finally {
      await server.close();
    }
    const db = new Database(join(data, 'livestats.db'), { readonly: true });
    try {
      const keys = db.prepare(`SELECT key FROM ${HTTP_CUBE.seriesTable}`).pluck().all() as string[];
      expect(keys.some((k) => k.includes('o1.example.com'))).toBe(false);
      expect(keys.some((k) => k.includes('fresh1.example.com'))).toBe(true);
    } finally {
      db.close();
    }
  }, 60_000);
});
