import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CarouselRunner } from '../src/carousel/runner.js';
import { resolveServeConfig } from '../src/config.js';
import type { CarouselResponse } from '../src/contract/carousel.js';
import { StreamProbe } from '../src/probe/probe.js';
import { HttpSampleSink } from '../src/probe/sink.js';
import { startServer, type RunningServer } from '../src/server.js';
import { issueCredentials, updateCredentials } from '../src/auth/credentials.js';
import { carouselDetail, collectingLog, sleep } from './helpers/api.js';
import { makeClip } from './helpers/clips.js';
import { startRtmpOrigin, type RtmpOrigin } from './harness/nginx-rtmp.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('ffmpeg', 'ffprobe', 'nginx', 'nginx-rtmp');

// Real parts only: clips encoded by ffmpeg, Debian's nginx + RTMP module, ffmpeg publishing,
// ffprobe measuring, samples posted over HTTP to the real server, read back from the stats API.

const PROJECT = 'proj1';
const A = { fps: 25, videoKbps: 1500, audioKbps: 128, seconds: 8 };
const B = { fps: 30, videoKbps: 800, audioKbps: 64, seconds: 8 };
const probeTuning = { stallTimeoutMs: 3000, connectTimeoutMs: 6000, backoffMinMs: 500, backoffMaxMs: 2000 };

let dir: string;
let nginx: RtmpOrigin;
let server: RunningServer;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-carousel-it-'));
  await Promise.all([makeClip(join(dir, 'a.mp4'), A), makeClip(join(dir, 'b.mp4'), B)]);
  nginx = await startRtmpOrigin(dir);
  const config = resolveServeConfig({ port: '0', data: join(dir, 'data'), 'flush-interval-ms': '200', 'log-level': 'silent' }, {});
  token = updateCredentials(config.data, (f) => issueCredentials(f, PROJECT)).token;
  server = await startServer(config);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await nginx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.ceil((s.length - 1) / 2)] as number)) / 2;
};
const within = (v: number, target: number, pct: number): boolean => Math.abs(v - target) <= (target * pct) / 100;

/** Polls the API until a second at or after `fromMs` shows video frames; returns that second. */
async function waitForVideo(task: string, fromMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await carouselDetail(server.url, PROJECT, task, fromMs, Math.max(Date.now(), fromMs) + 2000, token).catch((err: Error) => {
      if (/HTTP 404/.test(err.message)) return null; // the task appears with its first posted sample
      throw err;
    });
    if (r === null) {
      await sleep(500);
      continue;
    }
    const i = r.video_framerate_list.findIndex((v) => v > 0);
    if (i >= 0) return Math.floor(fromMs / 1000) * 1000 + i * 1000;
    await sleep(500);
  }
  throw new Error(`no video reported for ${task} within ${timeoutMs} ms`);
}

function rows(r: CarouselResponse): Array<{ vf: number; vk: number; af: number; ak: number }> {
  return r.video_framerate_list.map((vf, i) => ({
    vf, vk: r.video_bitrate_list[i] ?? 0, af: r.audio_framerate_list[i] ?? 0, ak: r.audio_bitrate_list[i] ?? 0,
  }));
}

describe('carousel over real RTMP', () => {
  it('measures both clips, shows an ffmpeg crash and a stopped runner as zeros, and recovers', async () => {
    const target = nginx.rtmpUrl('live', 'ch1');
    const runnerLog = collectingLog();
    const sink = new HttpSampleSink({ server: server.url, project: PROJECT, taskId: 'ch1', intervalMs: 500, token });
    const spec = { project: PROJECT, taskId: 'ch1', playlist: [join(dir, 'a.mp4'), join(dir, 'b.mp4')], to: target, loop: true };
    let runner = new CarouselRunner({ ...spec, sink, log: runnerLog, restartMinMs: 5000, probe: probeTuning });
    void runner.start();
    // An independent watcher of the same channel, as `livestats probe` runs it.
    const watchLog = collectingLog();
    const watchSink = new HttpSampleSink({ server: server.url, project: PROJECT, taskId: 'ch1-watch', intervalMs: 500, token });
    const watcher = new StreamProbe({ url: target, onSamples: (s) => watchSink.add(s), log: watchLog, ...probeTuning });
    watcher.start();
    try {
      // 1. steady state: per-second fps/kbps of clip A and clip B
      const first = await waitForVideo('ch1', Date.now() - 2000, 120_000);
      const obsStart = first + 2000;
      // Observed until both clips have shown at least 6 seconds each (the playlist plays A, then B:
      // about 20 s), not for a fixed time: on a busy machine samples arrive late. The last 5 s
      // before now are left out (their samples may still be on their way).
      let seen: Array<{ vf: number; vk: number; af: number; ak: number }> = [];
      const observeUntil = Date.now() + 120_000; // a hang catcher
      for (;;) {
        await sleep(1000);
        const obsEnd = Math.floor((Date.now() - 5000) / 1000) * 1000;
        if (obsEnd <= obsStart) continue;
        seen = rows(await carouselDetail(server.url, PROJECT, 'ch1', obsStart, obsEnd, token));
        const secs = (fps: number): number => seen.filter((r) => Math.abs(r.vf - fps) <= 2).length;
        if ((secs(A.fps) >= 6 && secs(B.fps) >= 6) || Date.now() > observeUntil) break;
      }
      const a = seen.filter((r) => Math.abs(r.vf - A.fps) <= 2);
      const b = seen.filter((r) => Math.abs(r.vf - B.fps) <= 2);
      const other = seen.filter((r) => !a.includes(r) && !b.includes(r));
      let switches = 0;
      for (let i = 1; i < seen.length; i++) {
        const kind = (r: { vf: number }): string => (Math.abs(r.vf - A.fps) <= 2 ? 'A' : Math.abs(r.vf - B.fps) <= 2 ? 'B' : '?');
        if (kind(seen[i] as { vf: number }) !== kind(seen[i - 1] as { vf: number })) switches++;
      }
      const report = {
        seconds: seen.length, transitions: other.length,
        A: { configured: A, secs: a.length, fps: median(a.map((r) => r.vf)), videoKbps: median(a.map((r) => r.vk)), audioFps: median(a.map((r) => r.af)), audioKbps: median(a.map((r) => r.ak)) },
        B: { configured: B, secs: b.length, fps: median(b.map((r) => r.vf)), videoKbps: median(b.map((r) => r.vk)), audioFps: median(b.map((r) => r.af)), audioKbps: median(b.map((r) => r.ak)) },
        perSecond: seen.map((r) => `${r.vf}/${r.vk}/${r.af}/${r.ak}`).join(' '),
      };
      console.log(`carousel measured vs configured: ${JSON.stringify(report)}`);
      expect(a.length).toBeGreaterThanOrEqual(5);
      expect(b.length).toBeGreaterThanOrEqual(5);
      // seconds where neither clip's rate shows can only be the ones straddling a file switch
      expect(other.length).toBeLessThanOrEqual(Math.ceil(switches / 2) + 1);
      expect(other.every((r) => r.vf > 0)).toBe(true);
      for (const r of seen) expect(Math.abs(r.af - 43)).toBeLessThanOrEqual(2);
      expect(within(report.A.videoKbps, A.videoKbps, 25)).toBe(true);
      expect(within(report.A.audioKbps, A.audioKbps, 25)).toBe(true);
      expect(within(report.B.videoKbps, B.videoKbps, 25)).toBe(true);
      expect(within(report.B.audioKbps, B.audioKbps, 25)).toBe(true);
      // most single seconds are within 25 % too, not only the medians (I-frame seconds and a loaded CI
      // machine push one or two of a clip's ~9 seconds out)
      expect(a.filter((r) => within(r.vk, A.videoKbps, 25)).length / a.length).toBeGreaterThanOrEqual(0.7);
      expect(b.filter((r) => within(r.vk, B.videoKbps, 25)).length / b.length).toBeGreaterThanOrEqual(0.7);

      // 2. ffmpeg dies: the runner restarts it after 5 s; the outage is zeros, then data again
      const pid = runner.ffmpegPid();
      expect(pid).toBeDefined();
      const killedAt = Date.now();
      process.kill(pid as number, 'SIGKILL');
      const back = await waitForVideo('ch1', killedAt + 5000, 120_000);
      // From 2 s after the kill (packets sent just before it may be stamped into the next second) to 2 s
      // before the first second seen again (the restarted stream's first, partial second can be filled late).
      const gap = rows(await carouselDetail(server.url, PROJECT, 'ch1', killedAt + 2000, back - 2000, token));
      expect(gap.length).toBeGreaterThanOrEqual(1);
      expect(gap.every((r) => r.vf === 0 && r.af === 0 && r.vk === 0 && r.ak === 0)).toBe(true);
      expect(runnerLog.lines.some((l) => l.level === 'warn' && /ffmpeg exited with SIGKILL/.test(l.msg))).toBe(true);

      // 3. the runner stops: the watcher records zeros and keeps reconnecting
      await runner.stop();
      const stoppedAt = Date.now();
      const lost = (): boolean => watchLog.lines.some((l) => l.level === 'warn' && /probe: stream lost \(no packets for 3000 ms\)/.test(l.msg));
      // At least 9 s, then until three idle seconds are stored and the loss is logged (a hang catcher, not
      // a deadline: on a busy machine the loss detection and the sink's flush can take longer).
      await sleep(9000);
      let idle: ReturnType<typeof rows> = [];
      await expect.poll(async () => {
        idle = rows(await carouselDetail(server.url, PROJECT, 'ch1-watch', stoppedAt + 1000, Date.now() - 4000, token));
        return idle.length >= 3 && lost();
      }, { timeout: 120_000, interval: 500 }).toBe(true);
      expect(idle.every((r) => r.vf === 0 && r.af === 0)).toBe(true);

      // 4. a new runner publishes again: the watcher reconnects and measures the stream again
      const connectionsBefore = watcher.status().connections;
      runner = new CarouselRunner({ ...spec, sink, log: runnerLog, restartMinMs: 5000, probe: probeTuning });
      const restartedAt = Date.now();
      void runner.start();
      const resumed = await waitForVideo('ch1-watch', restartedAt, 120_000);
      // The two seconds after the first one seen again, once stored (an empty list would check nothing);
      // 4 s first, so that both are complete.
      await sleep(4000);
      let after: ReturnType<typeof rows> = [];
      await expect.poll(async () => {
        after = rows(await carouselDetail(server.url, PROJECT, 'ch1-watch', resumed + 1000, resumed + 3000, token));
        return after.length;
      }, { timeout: 120_000, interval: 500 }).toBeGreaterThanOrEqual(1);
      expect(after.every((r) => Math.abs(r.vf - A.fps) <= 2 || Math.abs(r.vf - B.fps) <= 2)).toBe(true);
      expect(watcher.status().connections).toBeGreaterThan(connectionsBefore);
    } finally {
      await runner.stop();
      await watcher.stop();
      await sink.close();
      await watchSink.close();
    }
  }, 300_000); // a hang catcher: ~45 s of real-time stream plus three waits for video (each a start of ffmpeg or ffprobe)
});
