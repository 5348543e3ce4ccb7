import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtcSecond } from '../src/contract/time.js';
import { OriginProber } from '../src/origin-probe/prober.js';
import type { PublishSession } from '../src/store/origin.js';
import { toolPath, requireTools } from './helpers/system-tools.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { publish, startRtmpOrigin, testClip, waitFor, type RtmpOrigin } from './harness/nginx-rtmp.js';

requireTools('nginx', 'nginx-rtmp', 'ffmpeg', 'ffprobe');

/**
 * Probes of live streams, end to end: a real nginx-rtmp, ffmpeg publishing a clip of known frame rate,
 * bitrate and GOP, the prober reading the open sessions from a real SQLite store and writing per-second
 * quality there, and the answers over HTTP: the frame rate, GOP and bitrate of the clip, a break when the
 * publisher stops and a second run when it resumes; the caps leave streams out and say so.
 * Every wait is for a condition (generous deadlines), never a fixed sleep.
 */
const dir = mkdtempSync(join(tmpdir(), 'livestats-origin-probe-'));
let app: TestApp;
let origin: RtmpOrigin;
let clip: string;
const PUSH = 'push.example.com';

const session = (id: string, stream: string, more: Partial<PublishSession> = {}): PublishSession => ({
  project: 'p1', id, domain: PUSH, app: 'live', stream, clientIp: '127.0.0.1', type: 0, region: 'OT', isp: 'OTHER',
  videoCodec: 'H264', audioCodec: 'AAC', frameRate: 0, bitrate: 0, width: 0, height: 0, start: Date.now(), end: null, origin: 'o1',
  updatedAt: Date.now(), bytesIn: 0, ...more,
});

beforeAll(async () => {
  app = await startTestApp();
  origin = await startRtmpOrigin(join(dir, 'nginx'));
  clip = await testClip(dir, { fps: 25, videoKbps: 400, audioKbps: 64, seconds: 4, gopSeconds: 2 });
}, 120_000);
afterAll(async () => {
  await origin?.stop();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const newProber = (maxStreams: number, perOrigin: number): OriginProber => new OriginProber({
  openSessions: () => app.store.openSessions(), urlOf: (s) => origin.rtmpUrl(s.app, s.stream), write: (rows) => app.store.writeQuality(rows),
  maxStreams, perOrigin, refreshMs: 500, flushMs: 500, probe: { ffprobe: toolPath('ffprobe') },
});

type Runs = Array<{ start_time: string; end_time: string; data_list: number[] }>;
const series = async (path: string, stream: string, field: string): Promise<Runs> => {
  const w = `start_time=${formatUtcSecond(Date.now() - 600_000)}&end_time=${formatUtcSecond(Date.now() + 1000)}`;
  const r = await app.request(`/v2/p1/stats/${path}?${path.startsWith('stream/') ? 'domain' : 'publish_domain'}=${PUSH}&app=live&stream=${stream}&${w}`);
  expect(r.status).toBe(200);
  return (r.json as Record<string, Runs>)[field] ?? [];
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('origin probes on a real nginx-rtmp', () => {
  it('measures fps, bitrate and GOP of a published stream; a stop is a break, a resume a new run', async () => {
    let pub = publish(origin.rtmpUrl('live', 'cam1'), clip);
    await app.store.writeOrigin({ sessions: [session('s1', 'cam1')], upBytes: [] });
    const prober = newProber(10, 10);
    prober.start();
    try {
      const runs = await waitFor('8 live seconds', async () => {
        const r = await series('stream/framerate', 'cam1', 'framerate_info_list');
        return r.some((x) => x.data_list.length >= 8) ? r : undefined;
      }, 120_000);
      const longest = runs.reduce((a, b) => (b.data_list.length > a.data_list.length ? b : a));
      expect(median(longest.data_list)).toBe(25);
      const kbps = (await series('stream/bitrate', 'cam1', 'bitrate_info_list')).flatMap((x) => x.data_list);
      // A 400 kbit/s CBR clip: payload bitrate per second within 25 % (per-second values vary around GOPs)
      expect(Math.abs(median(kbps) - 400)).toBeLessThan(100);
      const up = await app.request(`/v2/p1/stats/up-stream/detail?publish_domain=${PUSH}&app=live&stream=cam1&start_time=${formatUtcSecond(Date.now() - 600_000)}`);
      const minutes = (up.json as { data: Array<{ gop_duration: number; last_video_pts: number; last_audio_pts: number }> }).data;
      expect(minutes.length).toBeGreaterThan(0);
      expect(minutes.at(-1)?.gop_duration).toBe(2000);
      expect(minutes.at(-1)?.last_video_pts).toBeGreaterThan(0);

      // Break: the publisher stops for a while, then publishes again: the answer splits into runs.
      await pub.stop();
      await waitFor('the break recorded', async () => {
        const r = await series('stream/framerate', 'cam1', 'framerate_info_list');
        const last = r.at(-1);
        return last !== undefined && Date.parse(last.end_time) < Date.now() - 8000;
      }, 120_000);
      pub = publish(origin.rtmpUrl('live', 'cam1'), clip);
      const after = await waitFor('a second run after the resume', async () => {
        const r = await series('stream-detail', 'cam1', 'video_framerate');
        return r.length >= 2 && (r.at(-1)?.data_list.length ?? 0) >= 5 ? r : undefined;
      }, 120_000);
      expect(Date.parse(after.at(-1)?.start_time ?? '')).toBeGreaterThan(Date.parse(after.at(-2)?.end_time ?? ''));
    } finally {
      await prober.stop();
      await pub.stop();
    }
  }, 400_000);

  it('caps: two streams at once, one probe allowed: one probed, one counted as skipped; an ended session stops its probe', async () => {
    const a = publish(origin.rtmpUrl('live', 'capA'), clip);
    const b = publish(origin.rtmpUrl('live', 'capB'), clip);
    await app.store.writeOrigin({ sessions: [session('s1', 'cam1', { end: Date.now() }), session('ca', 'capA', { start: Date.now() - 2000 }), session('cb', 'capB')], upBytes: [] });
    const prober = newProber(1, 10);
    prober.start();
    try {
      await waitFor('capA measured', async () => (await series('stream/framerate', 'capA', 'framerate_info_list')).some((x) => x.data_list.length >= 3), 120_000);
      expect(prober.status()).toMatchObject({ probing: 1, skipped: 1 });
      expect(await series('stream/framerate', 'capB', 'framerate_info_list')).toEqual([]);
      await app.store.writeOrigin({ sessions: [session('ca', 'capA', { start: Date.now() - 2000, end: Date.now(), updatedAt: Date.now() + 1 })], upBytes: [] });
      // capA ended: capB takes the one probe
      await waitFor('capB measured', async () => (await series('stream/framerate', 'capB', 'framerate_info_list')).some((x) => x.data_list.length >= 3), 120_000);
      expect(prober.status()).toMatchObject({ probing: 1, skipped: 0 });
    } finally {
      await prober.stop();
      await a.stop();
      await b.stop();
    }
  }, 400_000);
});
