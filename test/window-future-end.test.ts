import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAROUSEL_WINDOW, HTTPCODES_WINDOW, resolveWindow } from '../src/contract/window.js';
import { parseRawQuery } from '../src/contract/query.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * A far-future end_time without start_time (review finding): the end is clamped to now, and the
 * default start must count back from that clamped end, so the answer is the default window's, not
 * an empty list (or a 400) for a window lying wholly in the future. Every endpoint whose default
 * start comes from the end, over real HTTP on a real SQLite store.
 */
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const FAR = 'end_time=9999-12-31T23:59:59Z';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW });
});
afterAll(async () => app.close());

const paths = [
  '/v2/p1/stats/user?play_domain=a.com',
  '/v2/p1/stats/traffic/detail?play_domains=a.com',
  '/v2/p1/stats/bandwidth/detail?play_domains=a.com',
  '/v2/p1/stats/traffic/summary?play_domains=a.com',
  '/v2/p1/stats/bandwidth/peak?play_domains=a.com',
  '/v2/p1/stats/httpcodes?play_domains=a.com',
  '/v2/p1/stats/stream-count?publish_domains=a.com',
  '/v2/p1/stats/up-bandwidth/detail?publish_domains=a.com',
  '/v2/p1/stats/history/streams?domain=a.com',
  '/v2/p1/stats/stream/bitrate?domain=a.com&app=live&stream=s1',
  '/v2/p1/stats/stream/framerate?domain=a.com&app=live&stream=s1',
];

describe('end_time far in the future, no start_time', () => {
  it.each(paths)('%s answers as with no window at all', async (path) => {
    const plain = await app.request(path);
    expect({ path, status: plain.status, body: plain.json }).toMatchObject({ status: 200 });
    const far = await app.request(`${path}&${FAR}`);
    expect({ path, status: far.status, body: far.json }).toEqual({ path, status: 200, body: plain.json });
  });
  it('resolveWindow: the default span ends now (carousel and httpcodes rules too)', () => {
    const now = Math.floor(NOW / 1000) * 1000;
    for (const rule of [CAROUSEL_WINDOW, HTTPCODES_WINDOW]) {
      expect(resolveWindow(parseRawQuery(FAR), rule, NOW)).toEqual({ start: now - rule.defaultSpanMs, end: now, now });
      // a given start keeps the given end (the span rule still applies to it)
      expect(resolveWindow(parseRawQuery('start_time=2028-03-01T11:00:00Z&end_time=2028-03-01T12:30:00Z'), rule, NOW))
        .toMatchObject({ start: Date.UTC(2028, 2, 1, 11), end: Date.UTC(2028, 2, 1, 12, 30) });
    }
  });
});
