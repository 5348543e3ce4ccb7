import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CarouselRunner } from '../src/carousel/runner.js';
import type { CarouselSample } from '../src/contract/carousel.js';
import { collectingLog } from './helpers/api.js';
import { makeClip } from './helpers/clips.js';
import { freePort } from './harness/ports.js';
import { requireTools } from './helpers/system-tools.js';
import { waitFor } from './ingest-helpers.js';

requireTools('ffmpeg', 'ffprobe');

// The runner with a target that refuses connections: ffmpeg keeps failing, the runner keeps
// restarting it with backoff and says why, the good file is not blamed, the probe reports zeros.

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-runner-'));
  await makeClip(join(dir, 'a.mp4'), { fps: 25, videoKbps: 300, audioKbps: 64, seconds: 2 });
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('carousel runner with an unreachable target', () => {
  it('restarts ffmpeg with backoff, logs the reason, and never skips the good file', async () => {
    const target = `rtmp://127.0.0.1:${await freePort()}/live/x`;
    const log = collectingLog();
    const samples: CarouselSample[] = [];
    const runner = new CarouselRunner({
      project: 'p1', taskId: 't1', playlist: [join(dir, 'a.mp4')], to: target, loop: true,
      sink: { add: (s) => void samples.push(...s), close: async () => {} }, log,
      restartMinMs: 200, restartMaxMs: 400,
      probe: { connectTimeoutMs: 1000, backoffMinMs: 200, backoffMaxMs: 400, bucketer: { emitDelayMs: 1000 } },
    });
    const done = runner.start();
    const exits = (): typeof log.lines => log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('carousel: ffmpeg exited with'));
    // Until 3 restarts and a sample, not a fixed 4 s: on a busy machine each ffmpeg start takes longer.
    await waitFor(() => exits().length >= 3 && samples.length >= 1, 60_000, 50);
    await runner.stop();
    await done;
    const restarts = exits();
    expect(restarts.length).toBeGreaterThanOrEqual(3);
    expect(restarts[0]?.msg).toMatch(/Connection refused|Input\/output error|Cannot open connection/);
    expect(restarts[0]?.msg).toMatch(/restarting at .*a\.mp4 in 200 ms/);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.every((s) => s.videoFps === 0 && s.audioFps === 0)).toBe(true);
  });
});
