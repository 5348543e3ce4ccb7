import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarouselSample } from '../src/contract/carousel.js';
import { StreamProbe } from '../src/probe/probe.js';
import { collectingLog } from './helpers/api.js';
import { requireTools } from './helpers/system-tools.js';
import { waitFor } from './ingest-helpers.js';

requireTools('ffprobe');

// Real ffprobe against two hostile endpoints on loopback: one that accepts and never says a
// word, one that answers every request with random bytes.

/** Deterministic noise (a fixed LCG), so every run feeds ffprobe the same garbage. */
function noise(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

let silent: Server;
let garbage: Server;
const sockets = new Set<Socket>();
const portOf = (s: Server): number => {
  const a = s.address();
  return typeof a === 'object' && a ? a.port : 0;
};
const listen = (s: Server): Promise<void> => new Promise((r) => s.listen(0, '127.0.0.1', () => r()));

beforeAll(async () => {
  silent = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
  });
  garbage = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.once('data', () => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nContent-Length: 65536\r\n\r\n');
      sock.end(noise(65536));
    });
  });
  await Promise.all([listen(silent), listen(garbage)]);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([new Promise((r) => silent.close(r)), new Promise((r) => garbage.close(r))]);
});

interface ProbeRun { samples: CarouselSample[]; log: ReturnType<typeof collectingLog>; connections: number }

/** Runs a probe until `done` holds (or a hang-catching deadline), not for a fixed time: a busy machine starts ffprobe slowly. */
async function runProbe(url: string, done: (r: ProbeRun) => boolean, connectTimeoutMs = 1500): Promise<ProbeRun> {
  const log = collectingLog();
  const samples: CarouselSample[] = [];
  const probe = new StreamProbe({
    url, log, onSamples: (s) => samples.push(...s),
    connectTimeoutMs, stallTimeoutMs: 1500, backoffMinMs: 300, backoffMaxMs: 1000,
    bucketer: { emitDelayMs: 1000 },
  });
  probe.start();
  await waitFor(() => done({ samples, log, connections: probe.status().connections }), 60_000, 50);
  await probe.stop();
  return { samples, log, connections: probe.status().connections };
}
const warned = (r: ProbeRun): boolean => r.log.lines.some((l) => l.level === 'warn');

describe('stream probe against broken sources', () => {
  it('records zeros, reconnects and logs why when the server never answers', async () => {
    const { samples, log, connections } = await runProbe(`rtmp://127.0.0.1:${portOf(silent)}/live/x`,
      (r) => r.samples.length >= 3 && r.connections >= 2 && warned(r));
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.every((s) => s.videoFps === 0 && s.audioFps === 0 && s.videoKbps === 0 && s.audioKbps === 0)).toBe(true);
    expect(connections).toBeGreaterThanOrEqual(2);
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/probe: stream lost \(no stream data within 1500 ms of connecting\); recording zeros, reconnecting in \d+ ms/);
  });

  it('records zeros, reconnects and logs ffprobe\'s reason when the source sends garbage', async () => {
    // A connect timeout that leaves ffprobe time to give its own verdict: at 1.5 s a loaded machine's
    // ffprobe start ran over it, and the probe reported "no stream data" instead of ffprobe's reason.
    const { samples, log, connections } = await runProbe(`http://127.0.0.1:${portOf(garbage)}/live/x.flv`,
      (r) => r.samples.length >= 2 && r.connections >= 2 && warned(r), 30_000);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples.every((s) => s.videoFps === 0 && s.audioFps === 0)).toBe(true);
    expect(connections).toBeGreaterThanOrEqual(2);
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(warns.length).toBeGreaterThanOrEqual(1);
    // ffprobe says why (e.g. "Invalid data found when processing input"); the log carries it
    expect(warns[0]?.msg).toMatch(/probe: stream lost \(ffprobe exited with 1: .*Invalid data found when processing input\); recording zeros/);
  });

  it('logs a clear reason when ffprobe itself is missing', async () => {
    const log = collectingLog();
    const probe = new StreamProbe({ url: 'rtmp://127.0.0.1:1/x', log, onSamples: () => {}, ffprobe: '/nonexistent/ffprobe', backoffMinMs: 200 });
    probe.start();
    await waitFor(() => log.lines.some((l) => /ENOENT/.test(l.msg)), 60_000, 20);
    await probe.stop();
    expect(log.lines.some((l) => /ENOENT/.test(l.msg))).toBe(true);
  });
});
