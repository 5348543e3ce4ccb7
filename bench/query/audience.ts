// The audience rows of the benchmark (issue 21): `npm run bench -- audience [--quick]`. A dataset of
// FLV sessions and HLS viewers is written through the store's write path (the batches ingest
// produces), then each query runs uncached (`--query-cache-ms 0`) at 10 connections against
// `livestats serve` in its own process, beside a bare node:http process sending the identical bytes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ISPS, REGIONS } from '../../src/contract/values.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { AudienceCells } from '../../src/store/audience.js';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess } from '../lib/proc.js';
import { table } from '../lib/table.js';

const M = 60_000;
const HOUR = 60 * M;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The dataset: one head domain with 31 days of FLV sessions, ten domains with 100 live streams each in the last hours. */
export const AUDIENCE_BENCH = {
  project: 'bench',
  domains: 10,
  streams: 100,
  /** Concurrent FLV viewers of the head domain (Zipf over its streams), every minute of `days`. */
  headViewers: 10_000,
  days: 31,
  /** Hours (ending at the anchor) in which every domain has FLV and HLS viewers on every stream. */
  liveHours: 2,
  /** Distinct HLS client IPs per stream and minute on the tail domains, and per head stream on the last hours. */
  hlsPerStream: 5,
  /** Province x carrier groups the head domain's viewers spread over. */
  geoGroups: 20,
} as const;

const domainName = (i: number): string => `aud-${String(i).padStart(2, '0')}.example.com`;
const streamName = (k: number): string => `room-${String(k).padStart(3, '0')}`;

export interface Builder {
  cells: AudienceCells;
  n: number;
}

function emptyCells(tuples: Array<[string, string, string]>): AudienceCells {
  return {
    domains: tuples.map((t) => t[0]), apps: tuples.map((t) => t[1]), streams: tuples.map((t) => t[2]),
    tuple: new Int32Array(0), minute: new Float64Array(0), protocol: new Uint8Array(0), geo: new Uint8Array(0),
    sessions: new Float64Array(0), playMs: new Float64Array(0), bytes: new Float64Array(0), requests: new Float64Array(0),
    hlsTuple: new Int32Array(0), hlsMinute: new Float64Array(0), hlsGeo: new Uint8Array(0), hlsIp: [],
    userTuple: new Int32Array(0), userDay: new Float64Array(0), userIp: [],
  };
}

/** Additive cells as plain arrays, turned into the typed columns at the end. */
export class Cells {
  tuple: number[] = []; minute: number[] = []; protocol: number[] = []; geo: number[] = [];
  sessions: number[] = []; playMs: number[] = []; bytes: number[] = []; requests: number[] = [];
  hlsTuple: number[] = []; hlsMinute: number[] = []; hlsGeo: number[] = []; hlsIp: string[] = [];
  userTuple: number[] = []; userDay: number[] = []; userIp: string[] = [];
  add(t: number, minute: number, protocol: number, geo: number, sessions: number, bytes: number, requests: number): void {
    this.tuple.push(t); this.minute.push(minute); this.protocol.push(protocol); this.geo.push(geo);
    this.sessions.push(sessions); this.playMs.push(sessions * M); this.bytes.push(bytes); this.requests.push(requests);
  }
  build(tuples: Array<[string, string, string]>): Builder {
    const c = emptyCells(tuples);
    Object.assign(c, {
      tuple: Int32Array.from(this.tuple), minute: Float64Array.from(this.minute), protocol: Uint8Array.from(this.protocol), geo: Uint8Array.from(this.geo),
      sessions: Float64Array.from(this.sessions), playMs: Float64Array.from(this.playMs), bytes: Float64Array.from(this.bytes), requests: Float64Array.from(this.requests),
      hlsTuple: Int32Array.from(this.hlsTuple), hlsMinute: Float64Array.from(this.hlsMinute), hlsGeo: Uint8Array.from(this.hlsGeo), hlsIp: this.hlsIp,
      userTuple: Int32Array.from(this.userTuple), userDay: Float64Array.from(this.userDay), userIp: this.userIp,
    });
    return { cells: c, n: this.tuple.length + this.hlsTuple.length };
  }
}

export const FLV = 0;
export const HLS = 1;
export const GEO_COUNT = REGIONS.length * ISPS.length;
/** 1.5 Mbit/s per viewer: bytes of one viewer-minute. */
export const VIEWER_MINUTE_BYTES = (1_500_000 / 8) * 60;

export interface AudienceDataset {
  anchor: number;
  cells: number;
  hlsViewers: number;
  users: number;
  generatedMs: number;
  bytesOnDisk: number;
}

/** Writes the dataset into a fresh SQLite store in `dir`; `anchor` is the (exclusive) end minute. */
export async function generateAudience(dir: string, log: (s: string) => void, quick: boolean): Promise<AudienceDataset> {
  const s = AUDIENCE_BENCH;
  const store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  const started = Date.now();
  const anchor = Math.floor(Date.now() / M) * M;
  const days = quick ? 2 : s.days;
  const tuples: Array<[string, string, string]> = [];
  for (let d = 1; d <= s.domains; d++) for (let k = 1; k <= s.streams; k++) tuples.push([domainName(d), 'live', streamName(k)]);
  const harmonic = Array.from({ length: s.streams }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  const headOnline = (k: number): number => Math.max(1, Math.round(s.headViewers / harmonic / k));
  let cells = 0;
  let hlsViewers = 0;
  let users = 0;
  let seq = 0;
  const write = async (b: Builder): Promise<void> => {
    await store.write({ id: `bench-aud-${++seq}`, counts: [], samples: [], tasks: [], checkpoints: [], audience: [{ project: s.project, cells: b.cells }] });
    cells += b.n;
  };
  // The head domain: FLV sessions on every stream, every minute, one day per batch.
  for (let day = days; day >= 1; day--) {
    const c = new Cells();
    const from = anchor - day * DAY;
    for (let m = from; m < from + DAY; m += M) {
      for (let k = 1; k <= s.streams; k++) {
        const online = headOnline(k);
        const geo = ((k * 7 + Math.floor(m / M)) % s.geoGroups) % GEO_COUNT;
        c.add(k - 1, m, FLV, geo, online, online * VIEWER_MINUTE_BYTES, Math.max(1, Math.round(online / 30)));
      }
    }
    // Distinct users of the day: one IP per viewer of the busiest minute.
    const dayStart = Math.floor(from / DAY) * DAY;
    for (let k = 1; k <= s.streams; k++) {
      for (let v = 0; v < headOnline(k); v++) {
        c.userTuple.push(k - 1); c.userDay.push(dayStart); c.userIp.push(`10.${k}.${v >> 8}.${v & 255}`);
        users++;
      }
    }
    await write(c.build(tuples));
    if (day % 5 === 0) log(`audience: head domain, ${days - day + 1} of ${days} days written`);
  }
  // The last hours: every domain, every stream, FLV sessions and HLS viewers.
  const c = new Cells();
  for (let m = anchor - s.liveHours * HOUR; m < anchor; m += M) {
    for (let d = 1; d <= s.domains; d++) {
      for (let k = 1; k <= s.streams; k++) {
        const t = (d - 1) * s.streams + (k - 1);
        if (d > 1) c.add(t, m, FLV, (k + d) % GEO_COUNT, 10, 10 * VIEWER_MINUTE_BYTES, 1);
        c.add(t, m, HLS, (k + d + 1) % GEO_COUNT, 0, s.hlsPerStream * VIEWER_MINUTE_BYTES, s.hlsPerStream * 10);
        for (let v = 0; v < s.hlsPerStream; v++) {
          c.hlsTuple.push(t); c.hlsMinute.push(m); c.hlsGeo.push((k + v) % GEO_COUNT); c.hlsIp.push(`172.16.${d * 10 + v}.${k}`);
          hlsViewers++;
        }
      }
    }
  }
  await write(c.build(tuples));
  await store.close();
  const bytesOnDisk = Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
  return { anchor, cells, hlsViewers, users, generatedMs: Date.now() - started, bytesOnDisk };
}

export interface AudienceBenchResult {
  dataset: AudienceDataset;
  quick: boolean;
  rows: Array<{ name: string; bytes: number; livestats: LoadResult; bare: LoadResult; ratio: number }>;
}

export async function runAudienceBench(o: { root: string; log: (s: string) => void; quick: boolean }): Promise<AudienceBenchResult> {
  const s = AUDIENCE_BENCH;
  const dir = join(o.root, '.bench-data', 'audience');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ds = await generateAudience(dir, o.log, o.quick);
  o.log(`audience: ${ds.cells} cells, ${ds.hlsViewers} HLS viewer rows, ${ds.users} user rows, ${(ds.bytesOnDisk / 2 ** 20).toFixed(0)} MiB, ` +
    `written in ${(ds.generatedMs / 1000).toFixed(0)} s`);
  const keys = JSON.parse(execFileSync(process.execPath, [join(o.root, 'bin/livestats.js'), 'keys', 'create', '--project', s.project,
    '--json', '--data', dir]).toString()) as { token: string };
  const headers = { 'x-auth-token': keys.token };
  const seconds = o.quick ? 2 : 8;
  const serve = await startProcess([join(o.root, 'bin/livestats.js'), 'serve', '--data', dir, '--port', '0', '--log-level', 'warn',
    '--query-cache-ms', '0', '--audience-retention-days', '40']);
  const end = ds.anchor;
  const head = domainName(1);
  const base = `/v2/${s.project}/stats`;
  const all = Array.from({ length: s.domains }, (_, i) => domainName(i + 1)).join(',');
  const yesterday = new Date(Math.floor(end / DAY) * DAY - DAY).toISOString().slice(0, 10).replace(/-/g, '');
  const list = [
    { name: 'users 7 d x 1 head domain, 60 s', path: `${base}/user?play_domain=${head}&interval=60&start_time=${iso(end - 7 * DAY)}&end_time=${iso(end)}` },
    {
      name: `users ${o.quick ? 2 : 31} d x 1 head domain, 300 s`,
      path: `${base}/user?play_domain=${head}&interval=300&start_time=${iso(end - (o.quick ? 2 : 31) * DAY + HOUR)}&end_time=${iso(end)}`,
    },
    { name: 'play-info 10 domains, 1,000 live streams', path: `${base}/stream/play-info?play_domains=${all}&time=${iso(end - 30 * M)}` },
    { name: 'portrait of the head domain (yesterday)', path: `${base}/stream-portraits?play_domain=${head}&time=${yesterday}` },
  ];
  const rows: AudienceBenchResult['rows'] = [];
  try {
    for (const q of list) {
      const res = await fetch(serve.url + q.path, { headers });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`${q.name}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
      const bodyFile = join(dir, 'bare-body.json');
      writeFileSync(bodyFile, body);
      const bare = await startProcess([join(o.root, 'dist/bench/query/bare-server.js'), bodyFile]);
      try {
        o.log(`audience load: ${q.name} (${body.length} bytes, 10 connections, ${seconds} s, uncached, then the bare server)`);
        const ls = await load(q.name, serve.url + q.path, { connections: 10, seconds, headers });
        const b = await load(`bare: ${q.name}`, bare.url + '/', { connections: 10, seconds });
        if (ls.non2xx > 0 || ls.errors > 0) throw new Error(`${q.name}: ${ls.non2xx} non-2xx answers, ${ls.errors} errors under load`);
        rows.push({ name: q.name, bytes: body.length, livestats: ls, bare: b, ratio: ls.rps / b.rps });
      } finally {
        await bare.stop();
      }
    }
  } finally {
    await serve.stop();
  }
  return { dataset: ds, quick: o.quick, rows };
}

export function audienceTable(r: AudienceBenchResult): string {
  return table(
    ['query (uncached, 10 connections)', 'KB/resp', 'req/s', 'p50 ms', 'p99 ms', 'bare req/s (same bytes)', 'x bare'],
    r.rows.map((x) => [x.name, x.bytes / 1024, x.livestats.rps, x.livestats.p50, x.livestats.p99, x.bare.rps, x.ratio]),
  );
}
