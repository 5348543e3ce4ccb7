import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarouselSample } from '../src/contract/carousel.js';
import { StreamProbe } from '../src/probe/probe.js';
import { collectingLog, sleep } from './helpers/api.js';
import { makeClip } from './helpers/clips.js';
import { serveLiveFlv, type LiveFlvServer } from './helpers/flv-live.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('ffmpeg', 'ffprobe');

// A server that answers after 1.2 s and then replays a 3.8 s GOP cache at once: counted by
// arrival time that is one second of ~116 fps (checked by swapping the bucketing to arrival
// time). The probe must report the real 25 fps.

let dir: string;
let live: LiveFlvServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-burst-'));
  await makeClip(join(dir, 'c.mp4'), { fps: 25, videoKbps: 800, audioKbps: 96, seconds: 12, gopSeconds: 4 });
  await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-i', join(dir, 'c.mp4'), '-c', 'copy', '-f', 'flv', join(dir, 'c.flv')]);
  live = await serveLiveFlv(join(dir, 'c.flv'), 3800, 1200);
}, 120_000);

afterAll(async () => {
  await live?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stream probe and a GOP-cache burst at connect', () => {
  it('never reports the burst as a spike', async () => {
    const samples: CarouselSample[] = [];
    const log = collectingLog();
    const probe = new StreamProbe({ url: live.url, log, onSamples: (s) => samples.push(...s), backoffMinMs: 60_000, bucketer: { emitDelayMs: 2000 } });
    probe.start();
    await sleep(10_000);
    const status = probe.status();
    await probe.stop();
    const byS = new Map(samples.map((s) => [s.second, s])); // re-reported seconds replace earlier ones
    const video = [...byS.values()].map((s) => s.videoFps);
    const audio = [...byS.values()].map((s) => s.audioFps);
    console.log(`burst test: video fps per second ${video.join(' ')}; audio ${audio.join(' ')}; status ${JSON.stringify(status)}`);
    expect(Math.max(...video)).toBeLessThanOrEqual(26);
    expect(Math.max(...audio)).toBeLessThanOrEqual(45);
    expect(video.filter((v) => v === 25).length).toBeGreaterThanOrEqual(4);
    expect(status.beforeConnect).toBeGreaterThan(50);
  }, 120_000);
});
