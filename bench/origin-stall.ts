// `npm run bench:origin-stall [-- --clients N] [--streams N]`: the longest main-thread stall of a statistics
// poll of a huge nginx-rtmp page (default 320,000 clients over 3,000 streams, ~62 MB), from the page's
// read through its parse, the tracker's apply and the store write (SQLite with its write thread, as
// `livestats serve` runs it). Four polls, as a busy origin shows them over time: every client new (open
// 3,000 sessions and 317,000 plays), a minute later (every play refreshed), the players gone (317,000 plays
// end, with their audience cells), then the publishers gone. Two stall measures per poll: the longest gap
// between ticks of a setInterval(1) and perf_hooks' monitorEventLoopDelay max, beside the same-run
// baseline: the same gap tracker over an idle stretch just before (the machine's own noise). The
// synchronous calls the bench can see are timed too: the tracker's whole run of one poll (apply, and the
// write's hand-off to the write thread) and the parse's page hand-off. Pages are served by a separate
// process (their send costs this one nothing). Figures go to docs/origin.md by hand (they are per machine).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseStatSource, StatPoller } from '../src/origin/poller.js';
import { statParser } from '../src/origin/stat-parser.js';
import { OriginTracker } from '../src/origin/tracker.js';
import type { OriginBatch } from '../src/store/origin.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { WriteThread } from '../src/store/sqlite/write-thread.js';
import { startProcess } from './lib/proc.js';
import { machine } from './lib/report.js';
import { table } from './lib/table.js';

const { values } = parseArgs({ options: {
  clients: { type: 'string', default: '320000' }, streams: { type: 'string', default: '3000' },
} });
const STREAMS = Math.max(1, Number(values.streams));
const CLIENTS = Math.max(STREAMS, Number(values.clients));

/** One client in nginx-rtmp's layout (Debian's nginx 1.22.1 + libnginx-mod-rtmp). */
const client = (id: number, publishing: boolean, timeMs: number): string =>
  `<client><id>${id}</id><address>203.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}</address><time>${timeMs}</time>` +
  `<flashver>${publishing ? 'FMLE/3.0 (compatible; Lavf59.27' : 'LNX 9,0,124,2'}</flashver><dropped>0</dropped><avsync>-15</avsync>` +
  `<timestamp>3103</timestamp>${publishing ? '<publishing/>' : ''}<active/></client>\n`;

/** A page of STREAMS streams and CLIENTS clients (a publisher each, the players spread evenly), or only the publishers, or none. */
function page(bytesBase: number, players: boolean, publishers: boolean, ageMs: number): string {
  const parts = ['<?xml version="1.0" encoding="utf-8" ?>\n<rtmp><nginx_version>1.22.1</nginx_version><server><application><name>live</name><live>'];
  const playersTotal = CLIENTS - STREAMS;
  let id = 0;
  for (let s = 0; s < STREAMS && publishers; s++) {
    const n = Math.floor(playersTotal / STREAMS) + (s < playersTotal % STREAMS ? 1 : 0);
    parts.push(`<stream><name>s${s}</name><time>${60_000 + ageMs}</time><bw_in>368000</bw_in><bytes_in>${bytesBase + s * 1000}</bytes_in><bw_out>0</bw_out><bytes_out>0</bytes_out>\n`);
    parts.push(client(id++, true, 60_000 + ageMs));
    for (let c = 0; c < n; c++) {
      if (players) parts.push(client(id, false, 30_000 + ageMs));
      id++;
    }
    parts.push('<meta><video><width>1280</width><height>720</height><frame_rate>30</frame_rate><codec>H264</codec></video>' +
      `<audio><codec>AAC</codec></audio></meta><nclients>${(players ? n : 0) + 1}</nclients><publishing/><active/></stream>\n`);
  }
  parts.push('</live></application></server></rtmp>\n');
  return parts.join('');
}

/** What the poll is doing (set by the wrappers below), for naming the step a long gap fell in. */
let phase = 'idle';

/**
 * The main thread's CPU time so far, ns (Linux: /proc/self/task/<main thread>/schedstat, whose first field
 * is the time the thread ran). A gap's CPU time is what the stall would last on a core of its own: on a
 * busy machine the wall-clock gap also holds the time the thread waited for a core.
 */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const cpuNs = (): number => {
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
};

/** The longest gap between ticks of a 1 ms interval (the event loop's longest stall while it runs), the step it began in, and the most CPU the main thread used between two ticks. */
class GapTracker {
  private last = performance.now();
  private lastCpu = cpuNs();
  private lastPhase = phase;
  max = 0;
  maxPhase = '';
  maxCpu = 0;
  maxCpuPhase = '';
  /** Gaps of over 20 ms of main-thread CPU (to tell garbage collection from our own steps). */
  long: Array<{ from: number; to: number; cpu: number; where: string }> = [];
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.last = performance.now();
    this.lastCpu = cpuNs();
    this.max = 0;
    this.maxCpu = 0;
    this.maxPhase = '';
    this.maxCpuPhase = '';
    this.long = [];
    this.timer = setInterval(() => {
      const t = performance.now();
      const cpu = cpuNs();
      const where = this.lastPhase === phase ? phase : `${this.lastPhase}→${phase}`;
      if (t - this.last > this.max) {
        this.max = t - this.last;
        this.maxPhase = where;
      }
      if ((cpu - this.lastCpu) / 1e6 > 20) this.long.push({ from: this.last, to: t, cpu: (cpu - this.lastCpu) / 1e6, where });
      if ((cpu - this.lastCpu) / 1e6 > this.maxCpu) {
        this.maxCpu = (cpu - this.lastCpu) / 1e6;
        this.maxCpuPhase = where;
      }
      this.last = t;
      this.lastCpu = cpu;
      this.lastPhase = phase;
    }, 1);
  }

  stop(): number {
    clearInterval(this.timer);
    this.max = Math.max(this.max, performance.now() - this.last);
    return this.max;
  }
}

const SERVER = `
const http = require('node:http'); const fs = require('node:fs'); const path = require('node:path');
const dir = process.env.PAGES;
const s = http.createServer((req, res) => {
  const f = path.join(dir, path.basename(new URL(req.url, 'http://x').pathname));
  fs.stat(f, (err, st) => {
    if (err) { res.statusCode = 404; return res.end(); }
    res.setHeader('content-type', 'text/xml'); res.setHeader('content-length', st.size);
    fs.createReadStream(f).pipe(res);
  });
});
s.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + s.address().port));
`;

const dir = mkdtempSync(join(tmpdir(), 'livestats-bench-stall-'));
const T0 = Date.UTC(2026, 10, 20, 12);
let now = T0;
const steps = [
  { name: 'open: every client new', file: 'open.xml', text: () => page(1_000_000, true, true, 0), advance: 0 },
  { name: 'a minute later: every play refreshed', file: 'grown.xml', text: () => page(9_000_000, true, true, 70_000), advance: 70_000 },
  { name: 'players gone: every play ends', file: 'players-gone.xml', text: () => page(17_000_000, false, true, 140_000), advance: 70_000 },
  { name: 'publishers gone: every session ends', file: 'empty.xml', text: () => page(0, false, false, 0), advance: 70_000 },
];
try {
  for (const s of steps) writeFileSync(join(dir, s.file), s.text());
  const server = await startProcess(['-e', SERVER], { PAGES: dir });
  const store = new SqliteStore(join(dir, 'livestats.db'), { writer: (file) => new WriteThread(file) });
  await store.init();
  // Synchronous calls the bench can see: the write's hand-off (writeOrigin until it returns its promise).
  const sync = { write: 0, run: 0 };
  const timedStore = {
    writeOrigin: (b: OriginBatch): Promise<void> => {
      phase = 'write';
      const t = performance.now();
      const p = store.writeOrigin(b);
      sync.write = Math.max(sync.write, performance.now() - t);
      return p;
    },
    openSessions: () => store.openSessions(),
    openPlays: () => store.openPlays(),
  };
  const tracker = new OriginTracker({ store: timedStore, geo: () => ({ region: 'GD', isp: 'CTCC' }), now: () => now });
  await tracker.restore();
  const snapshot = tracker.snapshot.bind(tracker);
  tracker.snapshot = (s) => {
    phase = 'apply';
    return snapshot(s);
  };
  const parser = statParser();
  const parse = parser.parse.bind(parser);
  parser.parse = (page) => {
    phase = 'parse';
    return parse(page);
  };
  const poller = new StatPoller({ sources: [], intervalMs: 10_000, tracker, now: () => now, timeoutMs: 600_000, parser });
  // The longest garbage-collection pause of a poll (V8's own figure: a stall no slicing of ours removes).
  let gcMax = 0;
  const gcList: Array<{ at: number; ms: number; kind: number }> = [];
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMax = Math.max(gcMax, e.duration);
      gcList.push({ at: e.startTime, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
    }
  });
  gcs.observe({ entryTypes: ['gc'] });
  const gaps = new GapTracker();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  // Baseline: the same gap tracker over an idle stretch.
  gaps.start();
  await new Promise((r) => setTimeout(r, 3000));
  const idle = gaps.stop();
  const idleCpu = gaps.maxCpu;
  const rows: Array<Array<string | number>> = [];
  for (const step of steps) {
    now += step.advance;
    sync.write = 0;
    gcMax = 0;
    phase = 'read';
    const source = parseStatSource(`${server.url}/${step.file}#project=p&domain=push.example.com&name=o1`);
    gaps.start();
    loop.reset();
    loop.enable();
    const t = performance.now();
    await poller.pollOnce(source);
    const wall = performance.now() - t;
    loop.disable();
    const gap = gaps.stop();
    await new Promise((r) => setImmediate(r)); // the last GC entries
    if (process.env.STALL_DETAIL) {
      for (const g of gaps.long.sort((a, b) => b.cpu - a.cpu).slice(0, 8)) {
        const gc = gcList.filter((e) => e.at < g.to && e.at + e.ms > g.from);
        console.log(`  ${g.cpu.toFixed(0)} ms CPU in ${(g.to - g.from).toFixed(0)} ms (${g.where}); GC in it: ${gc.map((e) => `${e.ms.toFixed(0)} ms kind ${e.kind}`).join(', ') || 'none'}`);
      }
    }
    gcList.length = 0;
    rows.push([step.name, (wall / 1000).toFixed(1), gap.toFixed(0), gaps.maxPhase, (loop.max / 1e6).toFixed(0), gaps.maxCpu.toFixed(0), gaps.maxCpuPhase,
      gcMax.toFixed(0), sync.write.toFixed(0), (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)]);
    phase = 'idle';
    console.log(rows[rows.length - 1]?.join(' | '));
  }
  console.log(`\n${STREAMS} streams, ${CLIENTS} clients (${(Buffer.byteLength(steps[0]?.text() ?? '') / 1e6).toFixed(0)} MB page); ${machine()}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`same-run baseline over 3 s idle: longest gap of the 1 ms interval ${idle.toFixed(1)} ms, most main-thread CPU between two ticks ${idleCpu.toFixed(1)} ms\n`);
  console.log(table(['poll', 'wall s', 'longest gap ms', 'in step', 'loop delay max ms', 'most CPU between ticks ms', 'in step', 'longest GC pause ms', 'write call ms', 'heap MiB after'], rows));
  gcs.disconnect();
  await statParser().close();
  await store.close();
  await server.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
