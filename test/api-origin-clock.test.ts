import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatUtcSecond } from '../src/contract/time.js';
import type { PublishSession } from '../src/store/origin.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * ShowStreamCount ends an open session at the API's clock (the one every window is parsed with), not
 * at the store's wall clock: with an API clock two days ahead of the machine's, a session opened half
 * an hour before the API's now counts in the last six slots (it counted nowhere when the store used
 * Date.now(), which is before the session's start).
 */
const H = 3_600_000;
const T0 = Math.floor((Date.now() + 2 * 24 * H) / 300_000) * 300_000;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => T0 + 250 });
  const open: PublishSession = {
    project: 'p1', id: 'clock-1', domain: 'push.example.com', app: 'live', stream: 'cam', clientIp: '203.0.113.9', type: 0,
    region: 'GD', isp: 'CTCC', videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 1500, width: 1280, height: 720,
    start: T0 - 30 * 60_000, end: null, origin: 'o1', bytesIn: 0, updatedAt: T0,
  };
  await app.store.writeOrigin({ sessions: [open], upBytes: [] });
});
afterAll(async () => app.close());

it('ShowStreamCount: an open session runs to the API clock', async () => {
  const r = await app.request(`/v2/p1/stats/stream-count?publish_domains=push.example.com&start_time=${formatUtcSecond(T0 - H)}&end_time=${formatUtcSecond(T0)}`);
  expect(r.status).toBe(200);
  expect((r.json as { data_list: Array<{ value: number }> }).data_list.map((d) => d.value)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
});
