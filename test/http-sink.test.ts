import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { Aggregator } from '../src/ingest/aggregator.js';
import { HttpSampleSink } from '../src/probe/sink.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { carouselDetail, collectingLog, sleep } from './helpers/api.js';
import { freePort } from './harness/ports.js';
import { waitFor } from './ingest-helpers.js';

// The probe's HTTP sink keeps samples while the server is down and delivers them once it is up.

let dir: string | undefined;
let app: FastifyInstance | undefined;
let store: SqliteStore | undefined;
let aggregator: Aggregator | undefined;

afterAll(async () => {
  await app?.close();
  await aggregator?.stop();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('HttpSampleSink', () => {
  it('retries while the server is unreachable and loses nothing', async () => {
    const port = await freePort();
    const log = collectingLog();
    const sink = new HttpSampleSink({ server: `http://127.0.0.1:${port}`, project: 'p1', taskId: 'ch1', intervalMs: 200, log });
    const t = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    sink.add([0, 1, 2].map((i) => ({ second: t + i * 1000, videoFps: 25 + i, videoKbps: 1000, audioFps: 43, audioKbps: 128 })));
    const warnings = (): string[] => log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(await waitFor(() => warnings().length > 0, 30_000, 20)).toBe(true);
    await sleep(700); // a few more failed attempts (fewer on a busy machine), which must not warn again
    expect(warnings()).toEqual(['sink: cannot post samples; will retry']);

    dir = await mkdtemp(join(tmpdir(), 'livestats-sink-'));
    store = new SqliteStore(join(dir, 'livestats.db'));
    await store.init();
    aggregator = new Aggregator(store);
    app = buildApp({ store, aggregator });
    await app.listen({ host: '127.0.0.1', port });
    sink.add([{ second: t + 3000, videoFps: 28, videoKbps: 1000, audioFps: 43, audioKbps: 128 }]);
    // Delivered on a later attempt (a 200 is a commit; until then the task is unknown: 404): wait for it, not for a fixed time.
    const fps = async (): Promise<number[] | undefined> => (await carouselDetail(`http://127.0.0.1:${port}`, 'p1', 'ch1', t, t + 4000)).video_framerate_list;
    await waitFor(async () => JSON.stringify(await fps().catch(() => undefined)) === JSON.stringify([25, 26, 27, 28]), 30_000, 50);
    await sink.close();
    expect(await fps()).toEqual([25, 26, 27, 28]);
    expect(log.lines.some((l) => l.msg === 'sink: posting samples again')).toBe(true);
  });

  it('drops the oldest samples beyond its bound, saying so', async () => {
    const log = collectingLog();
    const sink = new HttpSampleSink({ server: 'http://127.0.0.1:9', project: 'p1', taskId: 'x', intervalMs: 60_000, maxQueued: 2, log });
    sink.add([1, 2, 3].map((i) => ({ second: i * 1000, videoFps: 0, videoKbps: 0, audioFps: 0, audioKbps: 0 })));
    expect(log.lines.map((l) => l.msg)).toEqual(['sink: server unreachable for too long; dropping the oldest samples']);
    expect(log.lines[0]?.obj).toEqual({ dropped: 1 });
    await sink.close();
  });
});
