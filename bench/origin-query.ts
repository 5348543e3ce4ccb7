// `npm run bench:origin [-- --quick] [--streams N] [--days N] [--seconds N]`: p50/p99 of each of the eight
// publish-side operations against `livestats serve` (SQLite, --query-cache-ms 0: uncached), each row
// right after a bare Fastify process sending the same bytes (that endpoint's answer, fetched once) in the
// same run, and the ratios. Dataset (default): 1,000 streams over 10 publish domains, 30 days of sessions
// (a 2-hour session every 4 hours per stream, starting off the 5-minute grid) and input bytes per 5
// minutes, 6 hours of per-second quality for 10 streams. Updates the "origin-query" section of
// BENCHMARKS.md (full runs only).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatUtcSecond } from '../src/contract/time.js';
import { projectRoot } from '../src/paths.js';
import type { PublishSession, UpBandwidthFilter, UpBytesRow } from '../src/store/origin.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { readCountsFromSessions, runOriginRead } from '../src/store/sqlite/origin.js';
import { readCountsFromSlots, readUpBytes } from '../src/store/sqlite/origin-slots.js';
import { readQuality } from '../src/store/sqlite/stream-quality.js';
import Database from 'better-sqlite3';
import type { QualityRow } from '../src/store/stream-quality.js';
import { load, type LoadResult } from './lib/load.js';
import { startProcess } from './lib/proc.js';
import { machine, updateSection } from './lib/report.js';
import { table } from './lib/table.js';

const { values } = parseArgs({ options: {
  quick: { type: 'boolean', default: false }, streams: { type: 'string', default: '1000' }, days: { type: 'string', default: '30' },
  seconds: { type: 'string' },
  // The read threads' nice value for the served process. 0 by default: the baseline process runs at 0
  // too, and on a machine shared with other work a niced reader measures the other work, not livestats.
  nice: { type: 'string', default: '0' },
  // Only the in-process store reads (no HTTP load): the store's own cost, before and after migrations 11 and 13.
  'reads-only': { type: 'boolean', default: false },
} });
const quick = values.quick ?? false;
const root = projectRoot();
const H = 3_600_000;
const P = 'bench';
const DOMAINS = Array.from({ length: 10 }, (_, i) => `push${i}.example.com`);
/** Streams per domain. */
const STREAMS = Math.max(1, Math.round(Number(values.streams) / DOMAINS.length));
const DAYS = Math.max(1, Number(values.days));
const now = Math.floor(Date.now() / 300_000) * 300_000;

const dir = mkdtempSync(join(tmpdir(), 'livestats-bench-origin-'));
try {
  const store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  let sessions = 0;
  let bytesRows = 0;
  for (const domain of DOMAINS) {
    const ss: PublishSession[] = [];
    const up: UpBytesRow[] = [];
    for (let s = 0; s < STREAMS; s++) {
      // Starts off the 5-minute grid (as real publishers do), so the stream counts see starts and ends inside slots.
      for (let start = now - DAYS * 24 * H + (s % 4) * H + s * 7_000; start < now; start += 4 * H) {
        const open = start + 4 * H >= now;
        ss.push({
          project: P, id: `${domain}-${s}-${start}`, domain, app: 'live', stream: `s${s}`, clientIp: `10.0.${s}.1`, type: s % 10 === 0 ? 1 : 0,
          region: 'GD', isp: 'CTCC', videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 1500, width: 1280, height: 720,
          start, end: open ? null : start + 2 * H, origin: 'o1', updatedAt: now, bytesIn: 0,
        });
        for (let t = start; t < Math.min(start + 2 * H, now); t += 300_000) {
          up.push({ project: P, domain, app: 'live', stream: `s${s}`, region: s % 2 === 0 ? 'GD' : 'BJ', isp: 'CTCC', type: s % 10 === 0 ? 1 : 0, slot: t, bytes: 56_250_000 });
        }
      }
    }
    sessions += ss.length;
    bytesRows += up.length;
    for (let i = 0; i < up.length; i += 20_000) await store.writeOrigin({ sessions: i === 0 ? ss : [], upBytes: up.slice(i, i + 20_000) });
    process.stderr.write(`written: ${domain}\n`);
  }
  let qualityRows = 0;
  for (let s = 0; s < 10; s++) {
    const rows: QualityRow[] = [];
    for (let t = now - 6 * H; t < now; t += 1000) {
      if ((t / 1000) % 600 < 3) continue; // a 3-second break every 10 minutes
      rows.push({ project: P, domain: DOMAINS[0] as string, app: 'live', stream: `s${s}`, second: t, videoFps: 25, videoKbps: 1400 + (t / 1000) % 50,
        audioFps: 43, audioKbps: 128, gopMs: 2000, lastVideoPtsMs: t - now + 6 * H, lastAudioPtsMs: t - now + 6 * H, delayMs: 40 });
    }
    qualityRows += rows.length;
    for (let i = 0; i < rows.length; i += 20_000) await store.writeQuality(rows.slice(i, i + 20_000));
  }
  await store.close();

  // The store reads alone, in this process, one at a time (no HTTP, no other request): the sweep over
  // every session and the per-stream byte rows (the reads before SQLite migration 11) beside the
  // pre-aggregates that replace them, on the same file in the same run.
  const db = new Database(join(dir, 'livestats.db'), { readonly: true });
  const timed = (fn: () => unknown): [number, number] => {
    const ms: number[] = [];
    for (let i = 0; i < (quick ? 3 : 15); i++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    return [ms.reduce((a, b) => a + b, 0) / ms.length, Math.max(...ms)];
  };
  const oldUp = (f: UpBandwidthFilter): void => {
    const q = db.prepare('SELECT slot, sum(bytes) FROM origin_up_bytes WHERE project = ? AND domain = ? AND slot >= ? AND slot < ? AND type = ? GROUP BY slot').raw();
    for (const domain of f.domains) q.all(f.project, domain, f.from / 300_000, f.to / 300_000, f.type);
  };
  const readRows: Array<Array<string | number>> = [];
  for (const [label, domains, days] of [['5 domains, 7 days', DOMAINS.slice(0, 5), 7], [`10 domains, ${Math.min(DAYS, 31)} days`, DOMAINS, Math.min(DAYS, 31)]] as Array<[string, string[], number]>) {
    const cf = { project: P, domains, from: now - days * 24 * H, to: now };
    const [bm, bx] = timed(() => readCountsFromSessions(db, cf, now));
    const [am, ax] = timed(() => readCountsFromSlots(db, cf, now));
    readRows.push([`ShowStreamCount (${label})`, 'sweep over every session', bm, bx, 'per-slot counts + open sessions', am, ax, bm / am]);
    const uf: UpBandwidthFilter = { ...cf, regions: [], isps: [], type: 0, slotMs: 300_000 };
    const [ubm, ubx] = timed(() => oldUp(uf));
    const [uam, uax] = timed(() => readUpBytes(db, uf));
    readRows.push([`ShowUpBandwidth (${label})`, 'per-stream rows', ubm, ubx, 'per-domain pre-aggregate', uam, uax, ubm / uam]);
  }
  {
    const uf: UpBandwidthFilter = { project: P, domains: [DOMAINS[0] as string], app: 'live', stream: 's1', regions: [], isps: [], type: 0, slotMs: 300_000, from: now - 7 * 24 * H, to: now };
    const [m, x] = timed(() => readUpBytes(db, uf));
    readRows.push(['ShowUpBandwidth (1 stream, 7 days)', '', '', '', 'per-stream covering index', m, x, '']);
    const qf = { project: P, domain: DOMAINS[0] as string, app: 'live', stream: 's1', from: now - 6 * H, to: now };
    const [qm, qx] = timed(() => readQuality(db, qf));
    readRows.push(['per-second quality (6 h, decoded)', '', '', '', 'quality blocks', qm, qx, '']);
  }
  {
    // The pages of sessions before SQLite migration 13 (the same statements without the named indexes).
    const oldPage = (where: string, args: Array<string | number>, offset: number, limit: number): void => {
      db.prepare(`SELECT count(*) FROM origin_sessions WHERE ${where}`).pluck().get(...args);
      db.prepare(`SELECT * FROM origin_sessions WHERE ${where} ORDER BY start_ms DESC, id LIMIT ? OFFSET ?`).raw().all(...args, limit, offset * limit);
    };
    const d = DOMAINS[0] as string;
    const [lbm, lbx] = timed(() => oldPage('project = ? AND domain = ? AND end_ms IS NULL', [P, d], 0, 10));
    const [lam, lax] = timed(() => runOriginRead(db, { op: 'live', filter: { project: P, domain: d, offset: 0, limit: 10 } }));
    readRows.push([`ListLiveStreamsOnline (${STREAMS} open, page of 10)`, 'count through the primary key', lbm, lbx, 'open sessions\' partial index', lam, lax, lbm / lam]);
    const five = DOMAINS.slice(0, 5);
    const [hbm, hbx] = timed(() => oldPage(`project = ? AND domain IN (${five.map(() => '?').join(', ')}) AND start_ms < ? AND (end_ms IS NULL OR end_ms > ?)`,
      [P, ...five, now, now - 24 * H], 0, 100));
    const [ham, hax] = timed(() => runOriginRead(db, { op: 'history', filter: { project: P, domains: five, from: now - 24 * H, to: now, offset: 0, limit: 100 } }));
    readRows.push(['ListHistoryStreams (5 domains, 1 day, page of 100)', 'every session since the first', hbm, hbx, 'open + by-end indexes', ham, hax, hbm / ham]);
  }
  db.close();
  const readTable = table(['store read (one at a time, in process)', 'before (the read before migration 11 / 13)', 'mean ms', 'max ms', 'after', 'mean ms', 'max ms', 'before / after'], readRows);
  console.log(readTable);
  if (values['reads-only'] === true) {
    if (!quick) {
      updateSection(join(root, 'BENCHMARKS.md'), 'origin-reads', [
        '### Publish-side store reads, before and after the per-slot pre-aggregates and the session indexes (SQLite migrations 11, 13)',
        '',
        `Run ${new Date().toISOString()} on ${machine()}: \`npm run bench:origin -- --reads-only\`. Load average at the end`,
        `${loadavg().map((x) => x.toFixed(1)).join(' / ')} (2 cores shared with other sessions).`,
        `Dataset: ${DOMAINS.length} publish domains x ${STREAMS} streams, ${DAYS} days: ${sessions} publish sessions (2 hours every 4 hours per stream, starting`,
        `off the 5-minute grid), ${bytesRows} input-byte rows (5 minutes). Each read ${quick ? 3 : 15} times, one at a time, in the benchmark process`,
        '(better-sqlite3 on the same file; no HTTP): what one request costs the read worker. "Before" is the read of the code before',
        'migration 11 (counts, bytes) or 13 (pages of sessions) on the same file in the same run.',
        '',
        readTable,
      ].join('\n'));
    }
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }

  const keys = JSON.parse(execFileSync(process.execPath, [join(root, 'bin/livestats.js'), 'keys', 'create', '--project', P, '--json', '--data', dir]).toString()) as { token: string };
  const headers = { 'x-auth-token': keys.token };
  const serve = await startProcess([join(root, 'bin/livestats.js'), 'serve', '--data', dir, '--port', '0', '--log-level', 'warn', '--query-cache-ms', '0', '--probe-max-streams', '0', '--query-thread-nice', String(values.nice)]);
  const d = DOMAINS[0] as string;
  const five = DOMAINS.slice(0, 5).join(',');
  const win = (from: number, to: number): string => `start_time=${formatUtcSecond(from)}&end_time=${formatUtcSecond(to)}`;
  const ops: Array<[string, string]> = [
    [`ListLiveStreamsOnline (${STREAMS} open, page of 10)`, `/v1/${P}/realtime/streams?publish_domain=${d}`],
    ['ListHistoryStreams (5 domains, 1 day, page of 100)', `/v2/${P}/stats/history/streams?domain=${five}&limit=100`],
    ['ShowStreamCount (5 domains, 7 days)', `/v2/${P}/stats/stream-count?publish_domains=${five}`],
    [`ShowStreamCount (10 domains, ${Math.min(DAYS, 31)} days)`, `/v2/${P}/stats/stream-count?publish_domains=${DOMAINS.join(',')}&${win(now - Math.min(DAYS, 31) * 24 * H, now)}`],
    ['ShowUpBandwidth (5 domains, 7 days, 300 s)', `/v2/${P}/stats/up-bandwidth/detail?publish_domains=${five}`],
    [`ShowUpBandwidth (10 domains, ${Math.min(DAYS, 31)} days, 300 s)`, `/v2/${P}/stats/up-bandwidth/detail?publish_domains=${DOMAINS.join(',')}&${win(now - Math.min(DAYS, 31) * 24 * H, now)}`],
    ['ShowUpBandwidth (1 stream, 7 days, 300 s)', `/v2/${P}/stats/up-bandwidth/detail?publish_domains=${d}&app=live&stream=s1`],
    ['ListSingleStreamBitrate (1 h)', `/v2/${P}/stats/stream/bitrate?domain=${d}&app=live&stream=s1`],
    ['ListSingleStreamFramerate (6 h)', `/v2/${P}/stats/stream/framerate?domain=${d}&app=live&stream=s1&${win(now - 6 * H, now)}`],
    ['ListSingleStreamDetail (6 h)', `/v2/${P}/stats/stream-detail?publish_domain=${d}&app=live&stream=s1&${win(now - 6 * H, now)}`],
    ['ListUpStreamDetail (6 h)', `/v2/${P}/stats/up-stream/detail?publish_domain=${d}&app=live&stream=s1&${win(now - 6 * H, now)}`],
  ];
  const seconds = values.seconds !== undefined ? Number(values.seconds) : quick ? 2 : 5;
  const rows: Array<{ name: string; base: LoadResult; op: LoadResult }> = [];
  const files: string[] = [];
  for (const [i, [name, path]] of ops.entries()) {
    const r = await fetch(serve.url + path, { headers });
    const text = await r.text();
    if (r.status !== 200 || !/[1-9]/.test(text)) throw new Error(`${name}: HTTP ${r.status} ${text.slice(0, 200)}`);
    files.push(join(dir, `body-${i}.json`));
    writeFileSync(files[i] as string, text);
  }
  const baseline = await startProcess([join(root, 'dist/bench/query/same-bytes-server.js'), ...files]);
  try {
    for (const [i, [name, path]] of ops.entries()) {
      process.stderr.write(`load: ${name}\n`);
      const base = await load(`baseline ${i}`, `${baseline.url}/body/${i}`, { connections: 10, seconds });
      const op = await load(name, serve.url + path, { connections: 10, seconds, headers });
      rows.push({ name, base, op });
    }
  } finally {
    await serve.stop();
    await baseline.stop();
  }
  const t = table(['operation (uncached)', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'baseline p99 ms', 'baseline req/s', 'p99 / baseline p99',
    'req/s / baseline req/s', 'p99 <= 50 ms', 'KB/resp', 'non-2xx', 'errors'],
  rows.map(({ name, base, op }) => [name, op.p50, op.p99, op.max, op.rps, base.p99, base.rps, op.p99 / Math.max(1, base.p99),
    op.rps / Math.max(1, base.rps), op.p99 <= 50 ? 'yes' : 'no', op.bytesPerReq / 1024, op.non2xx + base.non2xx, op.errors + base.errors]));
  console.log(t);
  if (!quick) {
    updateSection(join(root, 'BENCHMARKS.md'), 'origin-query', [
      '### Publish-side operations, query latency (SQLite, uncached)',
      '',
      `Run ${new Date().toISOString()} on ${machine()}: \`npm run bench:origin\`.`,
      `Dataset: ${DOMAINS.length} publish domains x ${STREAMS} streams, ${DAYS} days: ${sessions} publish sessions, ${bytesRows} input-byte rows (5 minutes),`,
      `${qualityRows} per-second quality samples (10 streams, 6 hours, a 3-second break every 10 minutes).`,
      `Load: autocannon in the benchmark process, 10 connections, ${seconds} s per row, against \`livestats serve --query-cache-ms 0 --query-thread-nice ${values.nice}\` in its own`,
      'process; each row\'s baseline is a bare Fastify process sending that endpoint\'s answer (the same bytes), loaded just before it.',
      `Machine load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' / ')} (2 cores shared with other sessions' builds and tests).`,
      '',
      t,
    ].join('\n'));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
