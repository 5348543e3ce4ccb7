import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { detailJson, detailNeedsData, parseTrafficDetailQuery, shapeDetail, type DetailKind, type TrafficDetailQuery } from './detail.js';

const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const D = 86_400_000;
const parse = (qs: string, kind: DetailKind = 'bandwidth') => parseTrafficDetailQuery(parseRawQuery(qs), kind, NOW, 400 * D);
const ok = (qs: string, kind: DetailKind = 'bandwidth'): TrafficDetailQuery => {
  const q = parse(qs, kind);
  if (q instanceof ApiError) throw new Error(q.body.error_msg);
  return q;
};
const failed = (qs: string, kind: DetailKind = 'bandwidth'): string | undefined => {
  const q = parse(qs, kind);
  return q instanceof ApiError ? q.body.error_msg : undefined;
};
const W = 'start_time=2028-03-01T10:00:00Z&end_time=2028-03-01T11:00:00Z';

describe('parseTrafficDetailQuery', () => {
  it('defaults to interval 300 over the last 7 days (2017 slots: the current one included)', () => {
    const q = ok('');
    expect(q.interval).toBe(300);
    expect(q.slots).toEqual({ slotMs: 300_000, from: Date.UTC(2028, 1, 23, 12, 0), to: Date.UTC(2028, 2, 1, 12, 5), count: 2017 });
  });

  it('accepts 300, 3600 and 86400 and refuses anything else, naming interval', () => {
    expect(ok(`${W}&interval=3600`).slots.count).toBe(1);
    expect(ok(`${W}&interval=86400`).slots).toMatchObject({ from: Date.UTC(2028, 2, 1), count: 1 });
    for (const bad of ['301', '60', '0300', '300.0', '3600&interval=300']) expect(failed(`interval=${bad}`)).toBe('Invalid request parameter: interval');
    expect(failed('interval=301', 'traffic')).toBe('Invalid request parameter: interval');
  });

  it('31 days at 300 s is 8928 slots; 31 days + 1 s is refused', () => {
    const end = '2028-02-20T00:00:00Z';
    expect(ok(`start_time=2028-01-20T00:00:00Z&end_time=${end}`).slots.count).toBe(8928);
    expect(failed(`start_time=2028-01-19T23:59:59Z&end_time=${end}`)).toBe('Invalid request parameter: start_time');
  });

  it('reads ip_type on bandwidth/detail only', () => {
    expect(ok('ip_type=v6').ipType).toBe('v6');
    expect(failed('ip_type=v5')).toBe('Invalid request parameter: ip_type');
    expect(failed('ip_type=V4')).toBe('Invalid request parameter: ip_type');
    // not a parameter of traffic/detail: ignored there, like any unknown parameter
    expect(ok('ip_type=v5', 'traffic').ipType).toBeUndefined();
  });

  it('refuses country on bandwidth/detail (not supported), any value', () => {
    for (const v of ['CN', 'cn', 'US,CN', 'x']) expect(failed(`country=${v}`)).toBe('Invalid request parameter: country');
    expect(failed('country=%zz')).toBe('Invalid request parameter: country');
    expect(ok('country=').ipType).toBeUndefined(); // empty means absent, as everywhere
    expect(ok('country=CN', 'traffic').kind).toBe('traffic'); // not a parameter of traffic/detail
  });

  it('names the first failing check: filters, interval, ip_type, country, then the window', () => {
    expect(failed('protocol=rtmp&interval=301')).toBe('Invalid request parameter: protocol');
    expect(failed('interval=301&ip_type=v5')).toBe('Invalid request parameter: interval');
    expect(failed('ip_type=v5&country=CN')).toBe('Invalid request parameter: ip_type');
    expect(failed('country=CN&start_time=bad')).toBe('Invalid request parameter: country');
  });

  it('marks service_type=LLL as needing no data', () => {
    expect(detailNeedsData(ok('service_type=LLL'))).toBe(false);
    expect(detailNeedsData(ok('service_type=Live'))).toBe(true);
    expect(detailNeedsData(ok(''))).toBe(true);
  });
});

describe('shapeDetail / detailJson', () => {
  it('renders bytes per slot for traffic, oldest first, zero-filled', () => {
    const q = ok(`start_time=2028-03-01T10:02:00Z&end_time=2028-03-01T10:15:00Z`, 'traffic');
    expect(shapeDetail(q, Float64Array.from([1000, 0, 37_500]))).toEqual({
      data_list: [
        { value: 1000, time: '2028-03-01T10:00:00Z' },
        { value: 0, time: '2028-03-01T10:05:00Z' },
        { value: 37_500, time: '2028-03-01T10:10:00Z' },
      ],
    });
  });

  it('renders bandwidth as bytes x 8 / interval, half-up', () => {
    const q = ok(`${W}&interval=300`);
    const bytes = new Float64Array(12);
    bytes[0] = 37_500; // 1000 bps
    bytes[1] = 19; // 0.5067 -> 1
    bytes[2] = 18; // 0.48 -> 0
    expect(shapeDetail(q, bytes).data_list.slice(0, 4).map((e) => e.value)).toEqual([1000, 1, 0, 0]);
    const hourly = ok(`${W}&interval=3600`);
    expect(shapeDetail(hourly, [225]).data_list).toEqual([{ value: 1, time: '2028-03-01T10:00:00Z' }]); // exactly 0.5
    const daily = ok(`${W}&interval=86400`);
    expect(shapeDetail(daily, [864_000_000]).data_list).toEqual([{ value: 80_000, time: '2028-03-01T00:00:00Z' }]);
  });

  it('JSON text equals the shaped object for random inputs', () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 100; round++) {
      const kind: DetailKind = round % 2 === 0 ? 'traffic' : 'bandwidth';
      const q = ok(`start_time=2028-02-2${1 + rnd(8)}T0${rnd(10)}:${10 + rnd(50)}:00Z&interval=${[300, 3600, 86400][rnd(3)]}`, kind);
      const bytes = Float64Array.from({ length: q.slots.count }, () => rnd(3) * rnd(2 ** 30));
      const text = detailJson(q, bytes);
      expect(JSON.parse(text)).toEqual(shapeDetail(q, bytes));
      expect(text.startsWith('{"data_list":[{"value":')).toBe(true);
    }
  });
});
