import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryOptions } from '../src/store/types.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { contractChecks } from './helpers/api.js';
import type { AudienceReads } from '../src/api/routes/audience.js';

/**
 * The three audience endpoints over real HTTP on a real SQLite store: the contract's edges
 * (audience-api.md) answered in the error envelope with a request id, 400s naming the parameter,
 * the 405-style method error, and the shapes of empty answers. Answers computed from a known
 * log are in test/audience-answers.test.ts.
 */
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const U = '/v2/p1/stats/user';
const PI = '/v2/p1/stats/stream/play-info';
const SP = '/v2/p1/stats/stream-portraits';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW, audienceRetentionDays: { domain: 400, stream: 30 } });
});
afterAll(async () => app.close());

const { expectInvalid, ok } = contractChecks(() => app);

describe('contract edges (issue 21)', () => {
  it('interval=120 is 400 interval; 60 and 300 are accepted', async () => {
    await expectInvalid(`${U}?play_domain=a.com&interval=120`, 'interval');
    await ok(`${U}?play_domain=a.com&interval=60`);
    await ok(`${U}?play_domain=a.com&interval=300`);
  });
  it('no play_domain is 400 play_domain (users and portrait); play-info without play_domains is every domain', async () => {
    await expectInvalid(U, 'play_domain');
    await expectInvalid(`${U}?play_domains=a.com`, 'play_domain');
    await expectInvalid(`${SP}?time=20280229`, 'play_domain');
    await ok(`${PI}?time=2028-03-01T12:00:00Z`);
  });
  it('today\'s date in a portrait\'s time is 400 time; yesterday and 31 days back are accepted, 32 are not', async () => {
    await expectInvalid(`${SP}?play_domain=a.com&time=20280301`, 'time');
    await expectInvalid(`${SP}?play_domain=a.com&time=20280302`, 'time');
    await expectInvalid(`${SP}?play_domain=a.com&time=20280129`, 'time');
    await expectInvalid(`${SP}?play_domain=a.com&time=2028-02-29`, 'time');
    await ok(`${SP}?play_domain=a.com&time=20280229`);
    await ok(`${SP}?play_domain=a.com&time=20280130`);
  });
  it('a play-info time that is not a whole minute is 400 time; so is a minute that has not begun', async () => {
    await expectInvalid(`${PI}?time=2028-03-01T11:59:30Z`, 'time');
    await expectInvalid(`${PI}?time=2028-03-01T12:01:00Z`, 'time');
    await expectInvalid(PI, 'time');
    await ok(`${PI}?time=2028-03-01T11:59:00Z`);
  });
  it('country with a value is 400 country; empty is absent', async () => {
    await expectInvalid(`${U}?play_domain=a.com&country=CN`, 'country');
    await expectInvalid(`${U}?play_domain=a.com&country=CN&country=US`, 'country');
    await ok(`${U}?play_domain=a.com&country=`);
  });
  it('other parameters at fault are named', async () => {
    for (const [qs, name] of [
      ['play_domain=a.com&protocol=FLV', 'protocol'],
      ['play_domain=a.com&region=XX', 'region'],
      ['play_domain=a.com&isp=cmcc', 'isp'],
      ['play_domain=a.com&service_type=x', 'service_type'],
      ['play_domain=a.com&start_time=2028-01-01T00:00:00Z', 'start_time'],
      // stream-level detail is kept 30 days here: a stream filter 40 days back is past it
      ['play_domain=a.com&stream=s1&start_time=2028-01-20T00:00:00Z&end_time=2028-01-21T00:00:00Z', 'start_time'],
    ] as const) await expectInvalid(`${U}?${qs}`, name);
    await expectInvalid(`${PI}?play_domains=${Array.from({ length: 11 }, (_, i) => `d${i}.com`).join(',')}&time=2028-03-01T11:00:00Z`, 'play_domains');
    await expectInvalid(`${SP}?play_domain=a.com&stream=a%2Fb&time=20280229`, 'stream');
  });
});

describe('answers without data', () => {
  it('users: one zero per slot of the window, oldest first', async () => {
    expect(await ok(`${U}?play_domain=a.com&interval=300&start_time=2028-03-01T11:50:00Z&end_time=2028-03-01T13:00:00Z`)).toEqual({
      data_list: ['11:50', '11:55', '12:00'].map((t) => ({ value: 0, time: `2028-03-01T${t}:00Z` })),
    });
    const week = (await ok(`${U}?play_domain=a.com`)) as { data_list: unknown[] };
    expect(week.data_list).toHaveLength(7 * 1440 + 1);
  });
  it('play-info: the minute and an empty list', async () => {
    expect(await ok(`${PI}?play_domains=a.com&time=2028-03-01T11:59:00Z`)).toEqual({ time: '2028-03-01T11:59:00Z', data_list: [] });
  });
  it('portrait: exactly one entry of zeros for the day', async () => {
    expect(await ok(`${SP}?play_domain=a.com&stream=s1&time=20280229`)).toEqual({
      stream_portraits: [{
        time: '20280229', flow: 0, play_duration: 0, request_count: 0, user_count: 0, peak_user_count: 0, peak_bandwidth: 0, push_duration: 0,
      }],
    });
  });
});

describe('methods', () => {
  it.each([U, PI, SP])('%s: POST is LIVE.100011011 with a request id', async (path) => {
    const r = await app.request(`${path}?play_domain=a.com`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(400);
    expect((r.json as { error_code: string }).error_code).toBe('LIVE.100011011');
    expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('cancelling', () => {
  it('a client that hangs up cancels the store read (its signal aborts) and frees the query slot', async () => {
    const NOW2 = Date.now();
    const seen: Array<{ aborted: boolean }> = [];
    // A reader that holds every read until its signal aborts (test code: it only records what the route hands the store).
    const hold = (options?: QueryOptions): Promise<never> => new Promise((_resolve, reject) => {
      const entry = { aborted: false };
      seen.push(entry);
      options?.signal?.addEventListener('abort', () => {
        entry.aborted = true;
        reject(new Error('aborted'));
      });
    });
    const held: AudienceReads = {
      usersSeries: (_f, options) => hold(options),
      playInfo: (_f, options) => hold(options),
      streamPortrait: (_f, options) => hold(options),
    };
    const slow = await startTestApp({ now: () => NOW2, audience: held, maxConcurrentQueries: 3 });
    try {
      const day = new Date(NOW2 - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
      const minute = `${new Date(NOW2 - 120_000).toISOString().slice(0, 16)}:00Z`;
      const paths = [`${U}?play_domain=a.com`, `${PI}?time=${minute}`, `${SP}?play_domain=a.com&time=${day}`];
      for (const path of paths) {
        const controller = new AbortController();
        const answer = fetch(slow.url + path, { signal: controller.signal }).catch(() => undefined);
        await expect.poll(() => seen.length, { timeout: 60_000 }).toBe(paths.indexOf(path) + 1);
        controller.abort();
        await answer;
        await expect.poll(() => seen.at(-1)?.aborted, { timeout: 60_000 }).toBe(true);
      }
      // Every slot was given back: three more queries (the limit) are all admitted.
      seen.length = 0;
      const controllers = paths.map(() => new AbortController());
      const answers = paths.map((p, i) => fetch(slow.url + p, { signal: controllers[i]?.signal }).catch(() => undefined));
      await expect.poll(() => seen.length, { timeout: 60_000 }).toBe(3);
      for (const c of controllers) c.abort();
      await Promise.all(answers);
    } finally {
      await slow.close();
    }
  });
});
