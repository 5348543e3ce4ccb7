// `npm run bench:audience [-- --minutes N] [--baseline <dist dir> [--rounds R]]`: what the audience cube costs at ingest, measured in one run.
// With --baseline (another build's dist/, e.g. main's copied under .tmp/ of this checkout so that its imports find node_modules),
// first the ingest CPU of both builds, alternating in one process, then the audience reads of both
// builds' files (each build's own reads, alternating: what the layout costs a query; the answers compared).
// Each build's cube-on ingests are also split (CPU around the build's own AudienceWriter.write and its two
// cubes' Cube.write, wrapped in place): a change to one part is seen apart from the whole ingest's noise.
// 1. Ingest CPU (parse, geo, aggregate, commit to SQLite) of the same lines with the audience cube
//    off and on, interleaved rounds, best of each: the ratio is the cube's cost.
// 2. Bytes on disk per day of the audience tables (SQLite dbstat) at 100 streams and ~10,000
//    concurrent viewers on one head domain (half FLV, half HLS), scaled from the simulated minutes.
// 3. A session of hours against one of a second: CPU per FLV line (processor and drain; and with the
//    commit to SQLite), cells per batch and blocks stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { Isp, Region } from '../../src/contract/values.js';
import { Aggregator } from '../../src/ingest/aggregator.js';
import type { CellBatch } from '../../src/ingest/cells.js';
import { createLineParser } from '../../src/ingest/formats/presets.js';
import { GeoResolver } from '../../src/ingest/geo/resolver.js';
import { LineProcessor } from '../../src/ingest/processor.js';
import { runAudienceRead, type AudienceRead } from '../../src/store/sqlite/audience-reads.js';
import { AUDIENCE_DOMAINS, AUDIENCE_STREAMS } from '../../src/store/sqlite/audience-layout.js';
import { AudienceWriter } from '../../src/store/sqlite/audience-writes.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { seeded } from '../lib/rng.js';
import { pairPools } from './generate-dense.js';

const MIN = 60_000;
const FORMAT = "'$remote_addr $msec $request_time $status $bytes_sent $host \"$request\"'";
const DOMAIN = 'head.example.com';
const STREAMS = 100;
const VIEWERS = 10_000;

const FLV_MEAN_MINUTES = 20;

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const minutes = Number(arg('--minutes') ?? 10);
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000 + 12 * 3_600_000; // yesterday 12:00 UTC

/** The simulated log, one string array per 10 s (what one flush commits). */
function generate(): { chunks: string[][]; lines: number } {
  const rand = seeded(21);
  const ips = pairPools(120, rand).flat();
  const ip = (): string => ips[Math.floor(rand() * ips.length)] as string;
  const stream = (): number => Math.min(STREAMS - 1, Math.floor(STREAMS * rand() * rand()));
  const line = (addr: string, end: number, rt: number, bytes: number, uri: string): string =>
    `${addr} ${(end / 1000).toFixed(3)} ${rt.toFixed(3)} 200 ${bytes} ${DOMAIN} "GET ${uri} HTTP/1.1"`;
  const hls = Array.from({ length: VIEWERS / 2 }, () => ({ ip: ip(), s: stream(), phase: rand() * 6000 }));
  // FLV sessions already open at the start (started up to an hour before), each replaced by a new one when it ends.
  const flv = Array.from({ length: VIEWERS / 2 }, () => ({ ip: ip(), s: stream(), start: T0 - rand() * 3_600_000, end: 0 }));
  for (const f of flv) f.end = T0 + -Math.log(1 - rand()) * FLV_MEAN_MINUTES * MIN;
  const chunks: string[][] = [];
  let lines = 0;
  for (let c = 0; c < minutes * 6; c++) {
    const from = T0 + c * 10_000;
    const to = from + 10_000;
    const out: string[] = [];
    for (const v of hls) {
      for (let t = from + v.phase % 6000; t < to; t += 6000) {
        out.push(line(v.ip, t, 0.05, 900, `/live/s${v.s}.m3u8`));
        out.push(line(v.ip, t + 200, 0.4, 350_000, `/live/s${v.s}/${Math.floor(t / 6000)}.ts`));
      }
    }
    for (const f of flv) {
      if (f.end >= to) continue;
      out.push(line(f.ip, f.end, (f.end - f.start) / 1000, Math.round((f.end - f.start) * 250), `/live/s${f.s}.flv`));
      f.ip = ip();
      f.s = stream();
      f.start = f.end;
      f.end = f.start + -Math.log(1 - rand()) * FLV_MEAN_MINUTES * MIN;
    }
    chunks.push(out);
    lines += out.length;
  }
  return { chunks, lines };
}

const geo = GeoResolver.create();

/** The parts of a build that ingest lines: this one, or another build's dist/ (`--baseline`). */
interface Build {
  name: string;
  Aggregator: typeof Aggregator;
  SqliteStore: typeof SqliteStore;
  LineProcessor: typeof LineProcessor;
  createLineParser: typeof createLineParser;
  geo: GeoResolver;
  runAudienceRead: typeof runAudienceRead;
  /** CPU ms spent in the audience writer and in each cube's write since the last reset (see timeParts). */
  parts: Record<Part, number>;
}

type Part = 'writer' | 'domain cube' | 'stream cube';
const PARTS: readonly Part[] = ['writer', 'domain cube', 'stream cube'];

/**
 * Wraps a build's AudienceWriter.write and its two audience cubes' write in place, adding each call's
 * CPU (process.cpuUsage, a few µs a call at ~3 calls per flush) to `parts`. Nested: the writer's
 * time includes the cubes'.
 */
function timeParts(parts: Record<Part, number>, writer: { prototype: { write: (...a: never[]) => void } }, domains: { write: (...a: never[]) => void }, streams: { write: (...a: never[]) => void }): void {
  const wrap = (o: { write: (...a: never[]) => void }, part: Part): void => {
    const write = o.write;
    o.write = function timed(this: unknown, ...a: never[]): void {
      const c0 = process.cpuUsage();
      try {
        write.apply(this, a);
      } finally {
        const c = process.cpuUsage(c0);
        parts[part] += (c.user + c.system) / 1000;
      }
    };
  };
  wrap(writer.prototype, 'writer');
  wrap(domains, 'domain cube');
  wrap(streams, 'stream cube');
}

const noParts = (): Record<Part, number> => ({ writer: 0, 'domain cube': 0, 'stream cube': 0 });
const thisBuild: Build = { name: 'this build', Aggregator, SqliteStore, LineProcessor, createLineParser, geo, runAudienceRead, parts: noParts() };
timeParts(thisBuild.parts, AudienceWriter, AUDIENCE_DOMAINS, AUDIENCE_STREAMS);

/** Another build's ingest parts from its dist/ directory (e.g. main's build copied aside). */
async function loadBuild(distDir: string): Promise<Build> {
  const from = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(resolve(distDir), path)).href)) as T;
  const g = await from<{ GeoResolver: typeof GeoResolver }>('src/ingest/geo/resolver.js');
  const layout = await from<{ AUDIENCE_DOMAINS: typeof AUDIENCE_DOMAINS; AUDIENCE_STREAMS: typeof AUDIENCE_STREAMS }>('src/store/sqlite/audience-layout.js');
  const parts = noParts();
  timeParts(parts, (await from<{ AudienceWriter: typeof AudienceWriter }>('src/store/sqlite/audience-writes.js')).AudienceWriter, layout.AUDIENCE_DOMAINS, layout.AUDIENCE_STREAMS);
  return {
    parts,
    name: `baseline ${distDir}`,
    Aggregator: (await from<{ Aggregator: typeof Aggregator }>('src/ingest/aggregator.js')).Aggregator,
    SqliteStore: (await from<{ SqliteStore: typeof SqliteStore }>('src/store/sqlite/store.js')).SqliteStore,
    LineProcessor: (await from<{ LineProcessor: typeof LineProcessor }>('src/ingest/processor.js')).LineProcessor,
    createLineParser: (await from<{ createLineParser: typeof createLineParser }>('src/ingest/formats/presets.js')).createLineParser,
    geo: g.GeoResolver.create(),
    runAudienceRead: (await from<{ runAudienceRead: typeof runAudienceRead }>('src/store/sqlite/audience-reads.js')).runAudienceRead,
  };
}

/** Ingests the chunks into a new SQLite file (audience on or off); returns CPU ms and the file. */
async function ingest(chunks: string[][], audience: boolean, dir: string, name: string, b: Build = thisBuild): Promise<{ cpuMs: number; file: string }> {
  const file = join(dir, `${name}.db`);
  const store = new b.SqliteStore(file);
  await store.init();
  const aggregator = new b.Aggregator(store, { flushIntervalMs: 3_600_000 });
  const held: CellBatch[] = [];
  const p = new b.LineProcessor({ parser: b.createLineParser(FORMAT), geo: b.geo, retentionDays: 8, sink: (c) => held.push(c), audience });
  const cpu0 = process.cpuUsage();
  for (const chunk of chunks) {
    p.refreshClock();
    for (const l of chunk) p.process(l);
    p.flushCells();
    for (const c of held.splice(0)) aggregator.addPacked('bench', c);
    await aggregator.flush();
  }
  const cpu = process.cpuUsage(cpu0);
  await aggregator.stop();
  await store.close();
  return { cpuMs: (cpu.user + cpu.system) / 1000, file };
}

/**
 * `--baseline <dist dir>`: this build and the baseline alternating in one process, cube off and on
 * (the order reversed every other round), `rounds` rounds, the first dropped as warm-up, best of the rest.
 */
async function versusBaseline(chunks: string[][], lines: number, baseline: Build, rounds: number): Promise<void> {
  const builds = [baseline, thisBuild];
  const best = new Map<string, number>();
  const all = new Map<string, number[]>();
  const files = new Map<Build, string>();
  const split = new Map<string, number[]>();
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
      for (const audience of r % 2 === 0 ? [false, true] : [true, false]) {
        for (const part of PARTS) b.parts[part] = 0;
        const { cpuMs, file } = await ingest(chunks, audience, dir, `ab${n++}`, b);
        if (audience) files.set(b, file);
        if (audience && r > 0) for (const part of PARTS) split.set(`${b.name}/${part}`, [...(split.get(`${b.name}/${part}`) ?? []), b.parts[part]]);
        const k = `${b.name}/${audience ? 'on' : 'off'}`;
        if (r > 0) best.set(k, Math.min(best.get(k) ?? Infinity, cpuMs));
        if (r > 0) all.set(k, [...(all.get(k) ?? []), cpuMs]);
      }
    }
  }
  console.log(`same process, builds alternating, ${rounds} rounds (first dropped), best of ${rounds - 1}, ${lines} lines:`);
  for (const b of builds) {
    const off = best.get(`${b.name}/off`) as number;
    const on = best.get(`${b.name}/on`) as number;
    console.log(`  ${b.name}: ingest CPU without ${off.toFixed(0)} ms, with ${on.toFixed(0)} ms: +${((on / off - 1) * 100).toFixed(1)} % (the cube ${(on - off).toFixed(0)} ms)`);
    // The spread: each round's on/off ratio (the same round's pair of ingests).
    const offs = all.get(`${b.name}/off`) ?? [];
    const ons = all.get(`${b.name}/on`) ?? [];
    const ratios = ons.map((v, i) => (v / (offs[i] as number) - 1) * 100).sort((x, y) => x - y);
    console.log(`    per round +% sorted: ${ratios.map((x) => x.toFixed(1)).join(', ')} (median ${(ratios[Math.floor(ratios.length / 2)] ?? NaN).toFixed(1)})`);
    const median = (part: Part): number => {
      const v = [...(split.get(`${b.name}/${part}`) ?? [])].sort((x, y) => x - y);
      return v[Math.floor(v.length / 2)] ?? NaN;
    };
    const writer = median('writer');
    const domains = median('domain cube');
    const streams = median('stream cube');
    console.log(`    cube-on ingests, median CPU ms: audience writer ${writer.toFixed(0)} (domain cube write ${domains.toFixed(0)}, stream cube write ${streams.toFixed(0)}, ` +
      `the rest ${(writer - domains - streams).toFixed(0)}: exact sets, sums, loops)`);
  }
  readsVersus(builds, files);
}

/**
 * The audience reads over each build's file of the cube-on ingest (its own read code), alternating,
 * best of several: play-info of the last minute (every stream's block of it), one stream's users at
 * 60 s over the window, the same filtered by one province (the per-stream province x carrier level)
 * and by a province and a carrier, and the whole domain's filtered by a province and by a carrier (the
 * per-domain province x carrier level). Answers must match between the builds.
 */
function readsVersus(builds: Build[], files: Map<Build, string>): void {
  const last = T0 + (minutes - 1) * MIN;
  const users = (stream: string | undefined, regions: Region[], isps: Isp[]): AudienceRead => ({
    op: 'users-body',
    filter: { project: 'bench', domain: DOMAIN, app: stream === undefined ? undefined : 'live', stream, protocol: undefined, regions, isps, slotMs: 60_000, from: T0, to: T0 + minutes * MIN },
  });
  const reads: Array<[string, AudienceRead]> = [
    ['play-info, last minute', { op: 'play-info-body', filter: { project: 'bench', domains: [DOMAIN], minute: last } }],
    ['users of s0', users('s0', [], [])],
    ['users of s0 in GD', users('s0', ['GD'], [])],
    ['users of s1 in GD on CMCC', users('s1', ['GD'], ['CMCC'])],
    ['users of the domain in GD', users(undefined, ['GD'], [])],
    ['users of the domain on CMCC', users(undefined, [], ['CMCC'])],
  ];
  const dbs = new Map(builds.map((b) => [b, new Database(files.get(b) as string, { readonly: true })]));
  try {
    for (const [name, read] of reads) {
      const best = new Map<Build, number>();
      const answers = new Map<Build, string>();
      for (let r = 0; r < 10; r++) {
        for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
          const t0 = process.hrtime.bigint();
          let out: unknown;
          for (let i = 0; i < 20; i++) out = b.runAudienceRead(dbs.get(b) as Database.Database, read);
          const us = Number(process.hrtime.bigint() - t0) / 20 / 1000;
          best.set(b, Math.min(best.get(b) ?? Infinity, us));
          answers.set(b, Buffer.from(out as Uint8Array).toString('utf8'));
        }
      }
      const [a, b] = builds as [Build, Build];
      const same = answers.get(a) === answers.get(b);
      console.log(`  read ${name}: ${a.name} ${(best.get(a) as number).toFixed(0)} us, ${b.name} ${(best.get(b) as number).toFixed(0)} us ` +
        `(x${((best.get(b) as number) / (best.get(a) as number)).toFixed(2)}); answers ${same ? 'identical' : 'DIFFER'} (${(answers.get(a) ?? '').length} bytes)`);
    }
  } finally {
    for (const db of dbs.values()) db.close();
  }
}

/** CPU ms of the processor alone (parse, geo, counters, drain; the batches are dropped), audience on or off. */
function processorOnly(chunks: string[][], audience: boolean): number {
  const p = new LineProcessor({ parser: createLineParser(FORMAT), geo, retentionDays: 8, sink: () => undefined, audience });
  const cpu0 = process.cpuUsage();
  for (const chunk of chunks) {
    p.refreshClock();
    for (const l of chunk) p.process(l);
    p.flushCells();
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000;
}

/** The audience tables of a file (SQLite dbstat): pages, and bytes in use (page size less its unused bytes), per table. */
function audienceBytes(file: string): { bytes: number; used: number; tables: Array<{ name: string; used: number }> } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sum(pgsize) AS b, sum(pgsize - unused) AS u FROM dbstat WHERE name LIKE 'aud_%' OR name LIKE 'cube_aud_%' OR name LIKE 'cube_aus_%' " +
      "OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'aud_%') GROUP BY name ORDER BY u DESC").all() as Array<{ name: string; b: number; u: number }>;
    return { bytes: rows.reduce((a, r) => a + r.b, 0), used: rows.reduce((a, r) => a + r.u, 0), tables: rows.map((r) => ({ name: r.name, used: r.u })) };
  } finally {
    db.close();
  }
}

/**
 * CPU per FLV line for sessions of `seconds`, 10,000 lines over 100 streams: the processor and drain
 * alone, and the whole ingest (processor, drain, commit to a new SQLite file: what a session's
 * minutes or blocks cost the store); the cells the drain gives and the audience blocks written.
 */
async function sessionCost(seconds: number): Promise<{ usPerLine: number; usPerLineStored: number; cells: number; blocks: number }> {
  const rand = seeded(7);
  const ips = pairPools(20, rand).flat();
  const lines = Array.from({ length: 10_000 }, (_, i) =>
    `${ips[i % ips.length] as string} ${((T0 + (i % 600) * 100) / 1000).toFixed(3)} ${seconds.toFixed(3)} 200 1000 ${DOMAIN} "GET /live/s${i % STREAMS}.flv HTTP/1.1"`);
  let cells = 0;
  const p = new LineProcessor({ parser: createLineParser(FORMAT), geo, retentionDays: 8, sink: (c) => { cells += c.audience?.tuple.length ?? 0; } });
  const t0 = process.cpuUsage();
  for (const l of lines) p.process(l);
  p.flushCells();
  const t = process.cpuUsage(t0);
  const file = join(dir, `session-${seconds}.db`);
  const store = new SqliteStore(file);
  await store.init();
  const aggregator = new Aggregator(store, { flushIntervalMs: 3_600_000 });
  const held: CellBatch[] = [];
  const q = new LineProcessor({ parser: createLineParser(FORMAT), geo, retentionDays: 8, sink: (c) => held.push(c) });
  const s0 = process.cpuUsage();
  // Ten flushes of 1,000 lines, as a follower flushing every few seconds would.
  for (let i = 0; i < lines.length; i += 1000) {
    for (const l of lines.slice(i, i + 1000)) q.process(l);
    q.flushCells();
    for (const c of held.splice(0)) aggregator.addPacked('bench', c);
    await aggregator.flush();
  }
  const st = process.cpuUsage(s0);
  await aggregator.stop();
  await store.close();
  const db = new Database(file, { readonly: true });
  const blocks = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE 'cube_aud_%' OR name LIKE 'cube_aus_%') AND name NOT LIKE '%series%' AND name NOT LIKE '%free%'").pluck().all()
    .reduce((n: number, name) => n + (db.prepare(`SELECT count(*) FROM ${String(name)}`).pluck().get() as number), 0);
  db.close();
  return { usPerLine: (t.user + t.system) / lines.length, usPerLineStored: (st.user + st.system) / lines.length, cells, blocks };
}

const dir = mkdtempSync(join(tmpdir(), 'livestats-audience-bench-'));
try {
  const { chunks, lines } = generate();
  console.log(`audience ingest bench: ${lines} lines, ${minutes} simulated minutes, ${STREAMS} streams, ${VIEWERS} concurrent viewers (half FLV, half HLS) on ${DOMAIN}`);
  const baseline = arg('--baseline');
  if (baseline !== undefined) {
    await versusBaseline(chunks, lines, await loadBuild(baseline), Number(arg('--rounds') ?? 5));
  }
  const best = { off: Infinity, on: Infinity, pOff: Infinity, pOn: Infinity };
  let onFile = '';
  for (let round = 0; round < 2; round++) {
    const pOff = processorOnly(chunks, false);
    const pOn = processorOnly(chunks, true);
    best.pOff = Math.min(best.pOff, pOff);
    best.pOn = Math.min(best.pOn, pOn);
    const off = await ingest(chunks, false, dir, `off${round}`);
    const on = await ingest(chunks, true, dir, `on${round}`);
    best.off = Math.min(best.off, off.cpuMs);
    best.on = Math.min(best.on, on.cpuMs);
    onFile = on.file;
    console.log(`  round ${round + 1}: CPU without the audience cube ${off.cpuMs.toFixed(0)} ms, with it ${on.cpuMs.toFixed(0)} ms ` +
      `(processor alone ${pOff.toFixed(0)} -> ${pOn.toFixed(0)} ms)`);
  }
  console.log(`ingest CPU (best of 2): without ${best.off.toFixed(0)} ms, with ${best.on.toFixed(0)} ms: +${((best.on / best.off - 1) * 100).toFixed(1)} % ` +
    `(${(best.off * 1000 / lines).toFixed(2)} -> ${(best.on * 1000 / lines).toFixed(2)} us/line)`);
  console.log(`processor alone (best of 2): without ${best.pOff.toFixed(0)} ms, with ${best.pOn.toFixed(0)} ms: +${((best.pOn / best.pOff - 1) * 100).toFixed(1)} %`);
  const a = audienceBytes(onFile);
  const perDay = (n: number): string => `${((n / minutes) * 1440 / 2 ** 20).toFixed(0)} MiB`;
  // Pages of a few minutes' file weigh its small tables' empty pages too; bytes in use scale with the day.
  console.log(`audience tables on disk: ${(a.bytes / 2 ** 20).toFixed(2)} MiB of pages, ${(a.used / 2 ** 20).toFixed(2)} MiB in use for ${minutes} minutes ` +
    `-> ${perDay(a.used)} per day in use (${perDay(a.bytes)} of pages); in use per day: ` +
    a.tables.filter((t) => t.used >= 4096).map((t) => `${t.name} ${perDay(t.used)}`).join(', '));
  for (const s of [1, 60, 3600, 6 * 3600, 8 * 3600]) {
    const c = await sessionCost(s);
    console.log(`FLV sessions of ${s} s: ${c.usPerLine.toFixed(2)} us per line (processor + drain), ${c.usPerLineStored.toFixed(2)} us with the commit to SQLite; ` +
      `${c.cells} cells for 10,000 lines, ${c.blocks} audience blocks stored`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
