import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatUtcSecond } from '../src/contract/time.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { contractChecks } from './helpers/api.js';
import { InMemoryTrafficStandIn } from './helpers/traffic-stand-in.js';
import { trafficRecords } from './fixtures/traffic-log.js';

/**
 * The four traffic/bandwidth endpoints over real HTTP: validation, error envelope, request ids
 * and rendering. The data comes from InMemoryTrafficStandIn, a test-only in-memory stand-in for
 * the traffic cube until it lands on the storage engine v2 block mechanism: these tests prove the
 * contract and the routes, not storage. The expected numbers are computed by hand from
 * test/fixtures/traffic-log.ts.
 */
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const NOW_S = NOW - 250;
const D = 86_400_000;
const ts = formatUtcSecond;

const TD = '/v2/p1/stats/traffic/detail';
const BD = '/v2/p1/stats/bandwidth/detail';
const TS = '/v2/p1/stats/traffic/summary';
const BP = '/v2/p1/stats/bandwidth/peak';
const ALL = [TD, BD, TS, BP];
const W = 'start_time=2028-03-01T10:00:00Z&end_time=2028-03-01T10:15:00Z';

let app: TestApp;
const standIn = new InMemoryTrafficStandIn().add(...trafficRecords());
beforeAll(async () => {
  app = await startTestApp({ now: () => NOW, traffic: standIn });
});
afterAll(async () => app.close());
beforeEach(() => {
  standIn.asked.length = 0;
});

const { expectInvalid, ok: okBody } = contractChecks(() => app);
const ok = async (path: string): Promise<Record<string, Array<{ value: number; time?: string; domain?: string }>>> =>
  (await okBody(path)) as Record<string, Array<{ value: number; time?: string; domain?: string }>>;
const values = async (path: string): Promise<number[]> => {
  const body = await ok(path);
  return (body.data_list ?? body.traffic_list ?? body.bandwidth_list ?? []).map((e) => e.value);
};
const domains = (n: number) => Array.from({ length: n }, (_, i) => `d${i}.com`).join(',');

describe('validation, on all four endpoints', () => {
  const end = NOW_S - D;
  it.each(ALL)('%s: span 31 d is accepted, 31 d + 1 s is 400 start_time', async (path) => {
    await ok(`${path}?start_time=${ts(end - 31 * D)}&end_time=${ts(end)}`);
    await expectInvalid(`${path}?start_time=${ts(end - 31 * D - 1000)}&end_time=${ts(end)}`, 'start_time');
  });
  it.each(ALL)('%s: look-back 365 d is accepted, 365 d + 1 s is 400 start_time', async (path) => {
    await ok(`${path}?start_time=${ts(NOW_S - 365 * D)}&end_time=${ts(NOW_S - 364 * D)}`);
    await expectInvalid(`${path}?start_time=${ts(NOW_S - 365 * D - 1000)}&end_time=${ts(NOW_S - 364 * D)}`, 'start_time');
  });
  it.each(ALL)('%s: 100 domains are accepted, 101 are 400 play_domains', async (path) => {
    await ok(`${path}?play_domains=${domains(100)}`);
    await expectInvalid(`${path}?play_domains=${domains(101)}`, 'play_domains');
  });
  it.each(ALL)('%s: protocol=rtmp is 400 protocol', async (path) => {
    await expectInvalid(`${path}?protocol=rtmp`, 'protocol');
  });
  it.each([
    ['play_domains=a%20b.com', 'play_domains'],
    ['play_domains=a.com&app=a%2Fb', 'app'],
    ['play_domains=a.com&stream=x&stream=y', 'stream'],
    ['region=XX', 'region'],
    ['isp=cmcc', 'isp'],
    ['protocol=HLS', 'protocol'],
    ['service_type=lll', 'service_type'],
    ['start_time=2028-03-01T10:00:00%2B08:00', 'start_time'],
    ['end_time=2028-03-01T10:00:00.000Z', 'end_time'],
    [`start_time=${ts(NOW_S - D)}&end_time=${ts(NOW_S - D)}`, 'end_time'],
    ['start_time=2028-03-02T00:00:00Z', 'start_time'],
  ])('%s -> 400 %s everywhere', async (qs, name) => {
    for (const path of ALL) await expectInvalid(`${path}?${qs}`, name);
  });

  it('interval=301 is 400 interval on both detail endpoints; summary and peak have no interval (ignored)', async () => {
    await expectInvalid(`${TD}?interval=301`, 'interval');
    await expectInvalid(`${BD}?interval=301`, 'interval');
    await ok(`${TS}?interval=301`);
    await ok(`${BP}?interval=301`);
  });
  it('country present is 400 country on bandwidth/detail (not supported); not a parameter of the others', async () => {
    await expectInvalid(`${BD}?country=CN`, 'country');
    await expectInvalid(`${BD}?play_domains=a.com&country=CN,US`, 'country');
    for (const path of [TD, TS, BP]) await ok(`${path}?country=CN`);
  });
  it('ip_type=v5 is 400 ip_type on bandwidth/detail; not a parameter of the others', async () => {
    await expectInvalid(`${BD}?ip_type=v5`, 'ip_type');
    for (const path of [TD, TS, BP]) await ok(`${path}?ip_type=v5`);
  });

  it('answers the envelope on a wrong method and for another project id format', async () => {
    for (const path of ALL) {
      const r = await app.request(path, { method: 'POST' });
      expect([r.status, r.json]).toEqual([400, { error_code: 'LIVE.100011011', error_msg: 'The HTTP method is not supported for this API' }]);
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      await expectInvalid(path.replace('p1', 'bad%20id'), 'project_id');
    }
  });
});

describe('service_type', () => {
  it('LLL answers zero values without asking the store for bytes; Live and ALL count everything', async () => {
    expect(await values(`${TD}?${W}&service_type=LLL`)).toEqual([0, 0, 0]);
    expect(await values(`${BD}?${W}&service_type=LLL`)).toEqual([0, 0, 0]);
    expect(await ok(`${TS}?${W}&service_type=LLL`)).toEqual({
      traffic_list: [{ value: 0, domain: 'a.com' }, { value: 0, domain: 'b.com' }, { value: 0, domain: 'c.com' }],
    });
    expect(await ok(`${BP}?${W}&service_type=LLL&play_domains=b.com`)).toEqual({ bandwidth_list: [{ value: 0, domain: 'b.com' }] });
    expect(standIn.asked).toEqual([]);
    expect(await values(`${TD}?${W}&service_type=Live`)).toEqual(await values(`${TD}?${W}&service_type=ALL`));
  });
});

describe('series from the known log (hand-computed)', () => {
  it('traffic detail: bytes per 5-minute slot, every domain, slot start times', async () => {
    expect(await ok(`${TD}?${W}`)).toEqual({
      data_list: [
        { value: 412_500, time: '2028-03-01T10:00:00Z' },
        { value: 16_500, time: '2028-03-01T10:05:00Z' },
        { value: 120_019, time: '2028-03-01T10:10:00Z' },
      ],
    });
  });
  it('bandwidth detail: bytes x 8 / 300, half-up', async () => {
    expect(await values(`${BD}?${W}`)).toEqual([11_000, 440, 3201]); // 3200.5067 -> 3201
  });
  it('interval 3600 and 86400: one slot each, holding the whole hour / day', async () => {
    expect(await ok(`${TD}?${W}&interval=3600`)).toEqual({ data_list: [{ value: 549_019, time: '2028-03-01T10:00:00Z' }] });
    expect(await values(`${BD}?${W}&interval=3600`)).toEqual([1220]); // 549019 x 8 / 3600 = 1220.04
    expect(await ok(`${BD}?${W}&interval=86400`)).toEqual({ data_list: [{ value: 51, time: '2028-03-01T00:00:00Z' }] }); // 50.83
    expect(standIn.asked.map((f) => [f.slotMs, f.from, f.to])).toEqual([
      [3_600_000, Date.UTC(2028, 2, 1, 10), Date.UTC(2028, 2, 1, 11)],
      [3_600_000, Date.UTC(2028, 2, 1, 10), Date.UTC(2028, 2, 1, 11)],
      [86_400_000, Date.UTC(2028, 2, 1), Date.UTC(2028, 2, 2)],
    ]);
  });
  it('protocol, app and stream come from the URI (HLS segments of the three shapes, query strings ignored)', async () => {
    expect(await values(`${TD}?${W}&play_domains=a.com&protocol=flv`)).toEqual([37_500, 0, 0]);
    expect(await values(`${TD}?${W}&play_domains=a.com&app=live&stream=room1`)).toEqual([112_500, 15_000, 0]);
    expect(await values(`${TD}?${W}&play_domains=a.com&app=live&stream=room1&protocol=hls`)).toEqual([75_000, 15_000, 0]);
    expect(await values(`${TD}?${W}&play_domains=a.com&stream=room2`)).toEqual([0, 1_500, 112_500]);
    expect(await values(`${TD}?${W}&protocol=hls`)).toEqual([75_000, 16_500, 112_500]);
    // the absolute-form target of b.com's first line counts as /live/room1.flv
    expect(await values(`${TD}?${W}&play_domains=b.com&app=live`)).toEqual([300_000, 0, 0]);
  });
  it('app and stream without play_domains are ignored', async () => {
    expect(await values(`${TD}?${W}&app=live&stream=room1`)).toEqual([412_500, 16_500, 120_019]);
    expect(standIn.asked.at(-1)).toMatchObject({ domains: [], app: undefined, stream: undefined });
  });
  it('region, isp and ip_type filters (IPv4-mapped IPv6 counts as v4)', async () => {
    expect(await values(`${TD}?${W}&region=GD&isp=CMCC`)).toEqual([337_500, 0, 7_500]);
    expect(await values(`${TD}?${W}&region=SH,BJ&isp=CMCC&isp=CUCC`)).toEqual([0, 16_500, 112_500]);
    expect(await values(`${BD}?${W}&ip_type=v6`)).toEqual([2000, 400, 200]);
    expect(await values(`${BD}?${W}&ip_type=v4`)).toEqual([9000, 40, 3001]); // 112519 x 8 / 300 = 3000.51
  });
  it('slots that have not begun are not listed; the current one is', async () => {
    const body = await ok(`${TD}?start_time=2028-03-01T11:50:00Z&end_time=2028-03-01T13:00:00Z`);
    expect(body.data_list?.map((e) => e.time)).toEqual(['2028-03-01T11:50:00Z', '2028-03-01T11:55:00Z', '2028-03-01T12:00:00Z']);
  });
  it('the default window is the last 7 days at 300 s (2017 slots with the current one)', async () => {
    const body = await ok(TD);
    expect(body.data_list).toHaveLength(2017);
    expect(body.data_list?.[0]?.time).toBe('2028-02-23T12:00:00Z');
    expect(body.data_list?.reduce((s, e) => s + e.value, 0)).toBe(549_019);
  });

  it('summary: total bytes per domain; all domains of the project (ascending) when none is given', async () => {
    expect(await ok(`${TS}?${W}`)).toEqual({
      traffic_list: [{ value: 241_519, domain: 'a.com' }, { value: 307_500, domain: 'b.com' }, { value: 0, domain: 'c.com' }],
    });
    // one entry per requested domain, in request order, normalized, 0 without traffic
    expect(await ok(`${TS}?${W}&play_domains=B.com,zz.com&play_domains=a.com,b.com`)).toEqual({
      traffic_list: [{ value: 307_500, domain: 'b.com' }, { value: 0, domain: 'zz.com' }, { value: 241_519, domain: 'a.com' }],
    });
    // the summary equals the sum of the 300 s detail over the same window and filters
    const detail = await values(`${TD}?${W}&play_domains=a.com&region=GD`);
    expect(await values(`${TS}?${W}&play_domains=a.com&region=GD`)).toEqual([detail.reduce((s, v) => s + v, 0)]);
  });

  it('peak: the busiest 5-minute slot of each domain in the window', async () => {
    expect(await ok(`${BP}?${W}`)).toEqual({
      bandwidth_list: [{ value: 3001, domain: 'a.com' }, { value: 8000, domain: 'b.com' }, { value: 0, domain: 'c.com' }],
    });
    // from 10:05 the 10:00 slot is outside: b.com's peak is its 10:10 slot
    expect(await ok(`${BP}?start_time=2028-03-01T10:05:00Z&end_time=2028-03-01T10:15:00Z&play_domains=b.com`))
      .toEqual({ bandwidth_list: [{ value: 200, domain: 'b.com' }] });
    // a start one second before 10:05 intersects the 10:00 slot, which is then counted whole
    expect(await ok(`${BP}?start_time=2028-03-01T10:04:59Z&end_time=2028-03-01T10:15:00Z&play_domains=b.com`))
      .toEqual({ bandwidth_list: [{ value: 8000, domain: 'b.com' }] });
    // the busiest slot, not an average over the window (a.com's hls averages 1813 bps over it)
    expect(await values(`${BP}?${W}&play_domains=a.com&protocol=hls`)).toEqual([3000]); // 112500 x 8 / 300
  });

  it("never answers another project's traffic", async () => {
    expect(await values(`/v2/p2/stats/traffic/summary?${W}`)).toEqual([999_999]);
    expect(standIn.asked.every((f) => f.project === 'p2')).toBe(true);
  });
});
