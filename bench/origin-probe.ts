// `npm run bench:probe [-- --streams N] [--seconds S]`: the CPU one probed live stream costs.
// A real nginx-rtmp on loopback, N ffmpeg publishers (stream copy of a 25 fps, 1500 kbit/s H.264 + AAC clip,
// -re) and the origin prober probing all N; CPU of the ffprobe children (from /proc) and of this process
// (the bucketing, process.cpuUsage) over a measured interval after a warm-up, beside the publishers'
// own CPU in the same run. Prints a table and updates the "origin-probes" section of BENCHMARKS.md.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OriginProber } from '../src/origin-probe/prober.js';
import { projectRoot } from '../src/paths.js';
import type { PublishSession } from '../src/store/origin.js';
import { machine, updateSection } from './lib/report.js';

const { values } = parseArgs({ options: { streams: { type: 'string', default: '8' }, seconds: { type: 'string', default: '40' } } });
const N = Number(values.streams);
const SECONDS = Number(values.seconds);
const TICK = 100; // USER_HZ on Linux

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
  });
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime (s) of every live process whose parent is `ppid` and whose command is `comm`. */
function childCpu(ppid: number, comm: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (name !== comm || Number(f[1]) !== ppid) continue;
      out.set(Number(d), (Number(f[11]) + Number(f[12])) / TICK);
    } catch { /* gone */ }
  }
  return out;
}
const delta = (a: Map<number, number>, b: Map<number, number>): number => {
  let s = 0;
  for (const [pid, v] of b) s += v - (a.get(pid) ?? 0);
  return s;
};

const dir = mkdtempSync(join(tmpdir(), 'livestats-bench-probe-'));
const children: ChildProcess[] = [];
try {
  const clip = join(dir, 'clip.flv');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25',
    '-f', 'lavfi', '-i', 'anoisesrc=sample_rate=44100:amplitude=0.3', '-t', '10', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-g', '50', '-b:v', '1500k', '-maxrate', '1500k', '-bufsize', '750k', '-x264-params', 'nal-hrd=cbr', '-c:a', 'aac', '-b:a', '128k', clip]);
  const port = await freePort();
  for (const sub of ['client_body_temp', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'nginx.conf'), [
    'load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;', 'daemon off;', 'master_process off;', 'worker_processes 1;',
    ...(process.getuid?.() === 0 ? ['user root;'] : []), `pid ${join(dir, 'nginx.pid')};`, `error_log ${join(dir, 'error.log')};`,
    'events {}', `rtmp { server { listen 127.0.0.1:${port}; application live { live on; } } }`,
  ].join('\n'));
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  children.push(nginx);
  await sleep(1000);
  const sessions: PublishSession[] = [];
  for (let i = 0; i < N; i++) {
    children.push(spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'flv',
      `rtmp://127.0.0.1:${port}/live/s${i}`], { stdio: 'ignore' }));
    sessions.push({
      project: 'bench', id: `s${i}`, domain: 'push.example.com', app: 'live', stream: `s${i}`, clientIp: '127.0.0.1', type: 0, region: 'OT', isp: 'OTHER',
      videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 1628, width: 1280, height: 720, start: Date.now(), end: null, origin: `127.0.0.1:${port}`,
      updatedAt: Date.now(), bytesIn: 0,
    });
  }
  let samples = 0;
  let live = 0;
  const prober = new OriginProber({
    openSessions: async () => sessions, urlOf: (s) => `rtmp://${s.origin}/${s.app}/${s.stream}`,
    write: async (rows) => { samples += rows.length; live += rows.filter((r) => r.videoFps > 0).length; },
    maxStreams: N, perOrigin: N,
  });
  prober.start();
  await sleep(10_000); // warm-up: connections, probing, first seconds
  const p0 = childCpu(process.pid, 'ffprobe');
  const f0 = childCpu(process.pid, 'ffmpeg');
  const n0 = process.cpuUsage();
  const s0 = samples;
  const l0 = live;
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const wall = (Date.now() - t0) / 1000;
  const probeCpu = delta(p0, childCpu(process.pid, 'ffprobe'));
  const pubCpu = delta(f0, childCpu(process.pid, 'ffmpeg'));
  const n1 = process.cpuUsage(n0);
  const nodeCpu = (n1.user + n1.system) / 1e6;
  const got = samples - s0;
  const liveShare = got === 0 ? 0 : (live - l0) / got;
  await prober.stop();
  const perStream = (probeCpu + nodeCpu) / wall / N;
  const cores = 2;
  const rows = [
    '| streams | measured | ffprobe CPU per stream | prober (node) CPU per stream | total per stream | live seconds / seconds reported | publishers (ffmpeg -c copy) per stream, same run | streams per 2 cores at 100 % |',
    '|---|---|---|---|---|---|---|---|',
    `| ${N} | ${wall.toFixed(0)} s | ${(100 * probeCpu / wall / N).toFixed(1)} % of a core | ${(100 * nodeCpu / wall / N).toFixed(2)} % | ${(100 * perStream).toFixed(1)} % | ${(100 * liveShare).toFixed(1)} % | ${(100 * pubCpu / wall / N).toFixed(1)} % | ${Math.floor(cores / perStream)} |`,
  ];
  console.log(rows.join('\n'));
  updateSection(join(projectRoot(), 'BENCHMARKS.md'), 'origin-probes', [
    '### Origin probes',
    '',
    `Run ${new Date().toISOString()} on ${machine()} (${cpus().length} cores, shared with other work; load average ${loadavg()[0]?.toFixed(1)} at the end): \`npm run bench:probe -- --streams ${N} --seconds ${SECONDS}\`.`,
    `A real nginx-rtmp on loopback, ${N} ffmpeg publishers of a 1280x720 25 fps 1500 kbit/s H.264 + 128 kbit/s AAC clip (stream copy, -re),`,
    'the origin prober probing all of them (ffprobe per stream, per-second bucketing in the node process); CPU from /proc and',
    'process.cpuUsage over the measured interval after a 10 s warm-up. "Live seconds" is the share of reported seconds with frames',
    '(below 100 % means seconds were reported empty: probes fell behind or reconnected). The last column divides 2 cores by the',
    'total per stream: a bound by CPU alone, leaving nothing for the rest of livestats; on a machine this loaded the live share',
    'drops well before it, so size `--probe-max-streams` by the live share measured on the target machine (default 20).',
    '',
    ...rows,
  ].join('\n'));
} finally {
  for (const c of children.reverse()) c.kill('SIGKILL');
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
