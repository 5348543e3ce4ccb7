import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarouselSample } from '../src/contract/carousel.js';
import { StreamProbe } from '../src/probe/probe.js';
import { collectingLog, sleep } from './helpers/api.js';
import { makeClip } from './helpers/clips.js';
import { freePort } from './harness/ports.js';
import { requireTools } from './helpers/system-tools.js';
import { waitFor } from './ingest-helpers.js';

requireTools('ffmpeg', 'ffprobe');

// MPEG-TS over UDP, published in real time by ffmpeg, measured by the probe.

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-udp-'));
  await makeClip(join(dir, 'u.mp4'), { fps: 30, videoKbps: 500, audioKbps: 96, seconds: 9 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stream probe on MPEG-TS over UDP', () => {
  it('measures frames and kilobits per second', async () => {
    const port = await freePort();
    const url = `udp://127.0.0.1:${port}`;
    const samples: CarouselSample[] = [];
    const probe = new StreamProbe({ url, log: collectingLog(), onSamples: (s) => samples.push(...s), bucketer: { emitDelayMs: 2000 } });
    probe.start();
    // Publish once ffprobe has bound the port (UDP sent before that is lost), not after a fixed 300 ms:
    // on a busy machine starting ffprobe takes longer.
    const bound = (): boolean => readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)
      .some((l) => (l.trim().split(/\s+/)[1] ?? '').endsWith(`:${port.toString(16).toUpperCase().padStart(4, '0')}`));
    expect(await waitFor(bound, 60_000, 20)).toBe(true);
    const publisher = spawn('ffmpeg', ['-loglevel', 'error', '-re', '-i', join(dir, 'u.mp4'), '-c', 'copy', '-f', 'mpegts', `${url}?pkt_size=1316`], { stdio: 'ignore' });
    const published = new Promise((r) => publisher.once('exit', r));
    await published;
    await sleep(3500);
    await probe.stop();
    const byS = new Map(samples.map((s) => [s.second, s]));
    const live = [...byS.values()].filter((s) => s.videoFps > 0);
    console.log(`udp: ${live.map((s) => `${s.videoFps}/${s.videoKbps}/${s.audioFps}/${s.audioKbps}`).join(' ')}`);
    const whole = live.slice(1, -1); // the first and last seconds are partial
    expect(whole.length).toBeGreaterThanOrEqual(4);
    for (const s of whole) {
      expect(Math.abs(s.videoFps - 30)).toBeLessThanOrEqual(2);
      expect(Math.abs(s.audioFps - 43)).toBeLessThanOrEqual(2);
      // AAC in MPEG-TS carries a 7-byte ADTS header per frame: ~2.4 kbps above the encoder's rate
      expect(Math.abs(s.audioKbps - 98)).toBeLessThanOrEqual(98 * 0.25);
      expect(Math.abs(s.videoKbps - 500)).toBeLessThanOrEqual(500 * 0.25);
    }
  }, 120_000);
});
