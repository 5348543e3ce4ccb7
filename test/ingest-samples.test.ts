import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { Aggregator } from '../src/ingest/aggregator.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { carouselDetail } from './helpers/api.js';

// The intake endpoint over a real socket, into a real SQLite file, read back through the stats API.

let dir: string;
let store: SqliteStore;
let aggregator: Aggregator;
let app: FastifyInstance;
let base: string;
const T = Math.floor(Date.now() / 1000) * 1000 - 60_000; // a whole second a minute ago

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-intake-'));
  store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  aggregator = new Aggregator(store);
  app = buildApp({ store, aggregator, bodyLimit: 2 * 1024 * 1024 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await aggregator?.stop();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = async (path: string, body: string | Buffer, method = 'POST'): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, { method, body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const samplesPath = (task: string, project = 'p1'): string => `/ingest/v1/${project}/carousel-tasks/${task}/samples`;
const sample = (second: number, vf: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  time: formatUtcSecond(second), video_fps: vf, video_kbps: 1500, audio_fps: 43, audio_kbps: 128, ...extra,
});

describe('POST /ingest/v1/{project}/carousel-tasks/{task}/samples', () => {
  it('stores samples and serves them per second through the stats API', async () => {
    const r = await post(samplesPath('ch1'), JSON.stringify([sample(T, 25), { ...sample(T + 1000, 24), time: (T + 1000) / 1000 }]));
    expect(r).toEqual({ status: 200, json: { accepted: 2, rejected: [] } });
    const d = await carouselDetail(base, 'p1', 'ch1', T - 1000, T + 3000);
    expect(d.video_framerate_list).toEqual([0, 25, 24, 0]);
    expect(d.audio_framerate_list).toEqual([0, 43, 43, 0]);
    expect(d.video_bitrate_list).toEqual([0, 1500, 1500, 0]);
    expect(d.audio_bitrate_list).toEqual([0, 128, 128, 0]);
  });

  it('replaces an earlier sample for the same second, across and within requests', async () => {
    await post(samplesPath('ch2'), JSON.stringify([sample(T, 25)]));
    await post(samplesPath('ch2'), JSON.stringify([sample(T, 30)]));
    await post(samplesPath('ch2'), JSON.stringify([sample(T + 1000, 1), { ...sample(T + 1000, 2), time: `${formatUtcSecond(T + 1000).slice(0, -1)}.600Z` }]));
    const d = await carouselDetail(base, 'p1', 'ch2', T, T + 2000);
    expect(d.video_framerate_list).toEqual([30, 2]);
  });

  it('stores the valid samples of a partly invalid request and reports the rest by index', async () => {
    const r = await post(samplesPath('ch3'), JSON.stringify([sample(T, 25), sample(T + 1000, -3), 42, sample(T + 2000, 26, { video_kbps: 9e9 })]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      accepted: 1,
      rejected: [
        { index: 1, reason: 'video_fps must not be negative' },
        { index: 2, reason: 'sample must be a JSON object' },
        { index: 3, reason: 'video_kbps exceeds 1000000' },
      ],
    });
    const d = await carouselDetail(base, 'p1', 'ch3', T, T + 3000);
    expect(d.video_framerate_list).toEqual([25, 0, 0]);
  });

  it('answers malformed, hostile and oversized bodies with a clear 400/413', async () => {
    const cases: Array<[string | Buffer, number, RegExp]> = [
      ['', 400, /body \(expected a JSON array of samples\)/],
      ['{"time": 1}', 400, /body \(expected a JSON array of samples\)/],
      ['[{"time": 1,', 400, /body \(not valid JSON\)/],
      [Buffer.from([0xff, 0xfe, 0x00, 0x5b]), 400, /body \(not valid JSON\)/],
      [JSON.stringify(new Array(10_801).fill(0)), 400, /too many samples: at most 10800 per request/],
      [JSON.stringify([sample(T, -1), 'x']), 400, /all 2 samples rejected; first: \[0\] video_fps must not be negative/],
      ['['.repeat(50_000) + ']'.repeat(50_000), 400, /all 1 samples rejected/],
      ['[' + '0,'.repeat(1_100_000) + '0]', 413, /Request body too large/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await post(samplesPath('ch4'), body);
      expect(r.status, String(body).slice(0, 30)).toBe(status);
      expect(r.json.error_code).toBe('LIVE.100011001');
      expect(String(r.json.error_msg)).toMatch(msg);
    }
    // nothing of the above created the task
    expect((await fetch(`${base}/v2/p1/stats/carousel-task/detail?carousel_task_id=ch4`)).status).toBe(404);
  });

  it('validates the task and project ids in the path', async () => {
    const badTask = await post(samplesPath('%20bad%2Fid'), '[]');
    expect(badTask.json).toEqual({ error_code: 'LIVE.100011001', error_msg: 'Invalid request parameter: task_id' });
    const badProject = await post(samplesPath('ch1', 'p!'), '[]');
    expect(badProject.json.error_msg).toBe('Invalid request parameter: project_id');
  });

  it('answers other methods on the intake path with LIVE.100011011', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}${samplesPath('ch1')}`, { method });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_code: string }).error_code).toBe('LIVE.100011011');
    }
  });

  it('answers 404 on the query side for a task the project has never seen', async () => {
    const res = await fetch(`${base}/v2/p1/stats/carousel-task/detail?carousel_task_id=never-seen`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error_code: 'LIVE.103011019', error_msg: 'The resource does not exist: carousel_task_id' });
    // and a task of another project is not visible here
    expect((await fetch(`${base}/v2/p2/stats/carousel-task/detail?carousel_task_id=ch1`)).status).toBe(404);
  });

  it('lists tasks with their last sample time', async () => {
    const tasks = await store.listTasks('p1');
    const ch1 = tasks.find((t) => t.taskId === 'ch1');
    expect(ch1?.lastSampleAt).toBe(T + 1000);
    expect(tasks.map((t) => t.taskId)).toEqual(['ch1', 'ch2', 'ch3']);
  });
});
