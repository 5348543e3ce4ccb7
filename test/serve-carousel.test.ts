import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { issueCredentials, updateCredentials } from '../src/auth/credentials.js';
import { carouselDetail, sleep } from './helpers/api.js';
import { makeClip } from './helpers/clips.js';
import { startRtmpOrigin, type RtmpOrigin } from './harness/nginx-rtmp.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('ffmpeg', 'ffprobe', 'nginx', 'nginx-rtmp');

// `serve --carousel file.json`: tasks run inside the server and feed its aggregator directly.

let dir: string;
let nginx: RtmpOrigin;
let server: RunningServer | undefined;
const logLines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-serve-carousel-'));
  await makeClip(join(dir, 'a.mp4'), { fps: 25, videoKbps: 600, audioKbps: 96, seconds: 6 });
  await writeFile(join(dir, 'broken.mp4'), 'garbage');
  nginx = await startRtmpOrigin(dir);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await nginx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('livestats serve --carousel', () => {
  it('runs the configured tasks, reports them through the API and stops them on close', async () => {
    await writeFile(join(dir, 'carousel.json'), JSON.stringify({
      tasks: [
        { project: 'p1', task: 'ch1', playlist: ['a.mp4'], to: nginx.rtmpUrl('live', 'ch1') },
        { project: 'p1', task: 'dead', playlist: ['broken.mp4'], to: nginx.rtmpUrl('live', 'dead') },
      ],
    }));
    const config = resolveServeConfig({ port: '0', data: join(dir, 'data'), carousel: join(dir, 'carousel.json'), 'flush-interval-ms': '200' }, {});
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    });
    const token = updateCredentials(config.data, (f) => issueCredentials(f, 'p1')).token;
    server = await startServer(config, { logger: pino({ level: 'info' }, sink) });
    const started = Date.now();
    let seen: number[] = [];
    while (Date.now() - started < 60_000) { // a hang catcher: on a busy machine ffmpeg, nginx and the probe start slowly
      const r = await carouselDetail(server.url, 'p1', 'ch1', started - 1000, Date.now() + 1000, token).catch(() => null);
      seen = r?.video_framerate_list.filter((v) => v > 0) ?? []; // 404 until the first flush registers the task
      if (seen.length >= 4) break;
      await sleep(500);
    }
    expect(seen.length).toBeGreaterThanOrEqual(4);
    // the first second may be partial; whole seconds carry the clip's 25 fps
    expect(seen.slice(1).every((v) => Math.abs(v - 25) <= 2)).toBe(true);
    // the broken task exists (created by its runner) and shows zeros; why is in the log
    const dead = await carouselDetail(server.url, 'p1', 'dead', started - 1000, Date.now(), token);
    expect(dead.video_framerate_list.every((v) => v === 0)).toBe(true);
    expect(logLines.some((l) => /skipping broken file .*broken\.mp4/.test(l))).toBe(true);
    expect(logLines.some((l) => /carousel: task failed \(carousel dead: no playable file in the playlist\); restarting in \d+ ms/.test(l))).toBe(true);
    const children = (): string[] => execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' }).split('\n');
    expect(children()).toContain('ffmpeg');
    await server.close();
    server = undefined;
    // no ffmpeg or ffprobe of this server is left behind
    expect(children().filter((c) => c === 'ffmpeg' || c === 'ffprobe')).toEqual([]);
  }, 120_000);
});
