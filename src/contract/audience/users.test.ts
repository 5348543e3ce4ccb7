import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { renderUsers } from './users-body.js';
import { parseUsersQuery, shapeUsers, usersJson, usersNeedData, type UsersQuery } from './users.js';

const D = 86_400_000;
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const STORED = { domainMs: 400 * D, streamMs: 30 * D };
const parse = (qs: string, stored = STORED) => parseUsersQuery(parseRawQuery(qs), NOW, stored);
const failed = (r: unknown): string | undefined => (r instanceof ApiError ? r.body.error_msg : undefined);
const ok = (qs: string): UsersQuery => {
  const r = parse(qs);
  if (r instanceof ApiError) throw new Error(r.body.error_msg);
  return r;
};

describe('parseUsersQuery', () => {
  it('defaults: interval 60, the last 7 days ending now, every protocol, service_type ALL', () => {
    const q = ok('play_domain=Play.Example.COM');
    expect(q).toMatchObject({
      domain: 'play.example.com', app: undefined, stream: undefined, regions: [], isps: [], protocol: undefined,
      interval: 60, serviceType: 'ALL',
    });
    // [now - 7 d, now): the minute of now - 7 d (begun mid-minute) through the current minute
    expect(q.slots.from).toBe(Date.UTC(2028, 1, 23, 12, 0));
    expect(q.slots.to).toBe(Date.UTC(2028, 2, 1, 12, 1));
    expect(q.slots.count).toBe(7 * 1440 + 1);
  });

  it('interval=300: 5-minute slots', () => {
    const q = ok('play_domain=a.com&interval=300&start_time=2028-03-01T10:03:00Z&end_time=2028-03-01T10:20:00Z');
    expect(q.slots).toEqual({ slotMs: 300_000, from: Date.UTC(2028, 2, 1, 10, 0), to: Date.UTC(2028, 2, 1, 10, 20), count: 4 });
  });

  it('reads the filters (arrays in both forms, sorted) and service_type', () => {
    expect(ok('play_domain=a.com&app=live&stream=%20s1%20&region=SH,GD&isp=CUCC&isp=CMCC&protocol=rtmp&service_type=LLL'))
      .toMatchObject({ app: 'live', stream: 's1', regions: ['GD', 'SH'], isps: ['CMCC', 'CUCC'], protocol: 'rtmp', serviceType: 'LLL' });
  });

  it('treats empty values as absent (country= included)', () => {
    expect(ok('play_domain=a.com&app=&stream=&region=&isp=&country=&protocol=&interval=&service_type='))
      .toEqual(ok('play_domain=a.com'));
  });

  it.each([
    ['', 'play_domain'],
    ['play_domain=', 'play_domain'],
    ['play_domain=a.com,b.com', 'play_domain'],
    ['play_domain=a.com&play_domain=b.com', 'play_domain'],
    ['play_domain=a.com:80', 'play_domain'],
    ['play_domain=a.com&app=a%2Fb', 'app'],
    ['play_domain=a.com&stream=' + 'x'.repeat(257), 'stream'],
    ['play_domain=a.com&region=XX', 'region'],
    ['play_domain=a.com&isp=cmcc', 'isp'],
    ['play_domain=a.com&country=CN', 'country'],
    ['play_domain=a.com&country=,CN', 'country'],
    ['play_domain=a.com&protocol=FLV', 'protocol'],
    ['play_domain=a.com&protocol=other', 'protocol'],
    ['play_domain=a.com&interval=120', 'interval'],
    ['play_domain=a.com&interval=3600', 'interval'],
    ['play_domain=a.com&interval=060', 'interval'],
    ['play_domain=a.com&service_type=all', 'service_type'],
    ['play_domain=a.com&start_time=2028-03-01', 'start_time'],
    ['play_domain=a.com&start_time=2028-01-01T00:00:00Z', 'start_time'], // span > 31 days
    ['play_domain=a.com&start_time=2027-02-01T00:00:00Z&end_time=2027-02-02T00:00:00Z', 'start_time'], // > 1 year back
    ['play_domain=a.com&end_time=2028-03-01T00:00:00Z&start_time=2028-03-01T00:00:00Z', 'end_time'],
    // the first parameter at fault is named
    ['play_domain=a.com&interval=120&country=CN', 'country'],
    ['play_domain=a.com&interval=120&start_time=x', 'interval'],
  ])('%s -> 400 naming %s', (qs, name) => {
    expect(failed(parse(qs))).toBe(`Invalid request parameter: ${name}`);
  });

  it('looks back as far as what is stored at the level the filters need', () => {
    const old = 'play_domain=a.com&start_time=2028-01-15T00:00:00Z&end_time=2028-01-16T00:00:00Z'; // 46 days back
    expect(failed(parse(old))).toBeUndefined();
    expect(failed(parse(`${old}&stream=s1`))).toBe('Invalid request parameter: start_time');
    expect(failed(parse(`${old}&app=live`))).toBe('Invalid request parameter: start_time');
    expect(failed(parse(old, { domainMs: 40 * D, streamMs: 40 * D }))).toBe('Invalid request parameter: start_time');
  });

  it('leaves out slots that have not begun; a window wholly in the future is empty and needs no data', () => {
    const q = ok('play_domain=a.com&start_time=2028-03-01T11:58:00Z&end_time=2028-03-01T13:00:00Z');
    expect(q.slots.count).toBe(3);
    const future = ok('play_domain=a.com&start_time=2028-03-01T12:05:00Z&end_time=2028-03-01T13:00:00Z');
    expect(future.slots.count).toBe(0);
    expect(usersNeedData(future)).toBe(false);
    expect(usersNeedData(q)).toBe(true);
    expect(usersNeedData({ ...q, serviceType: 'LLL' })).toBe(false);
  });
});

describe('shaping', () => {
  const q5 = ok('play_domain=a.com&interval=300&start_time=2028-03-01T10:00:00Z&end_time=2028-03-01T10:15:00Z');

  it('one entry per slot, oldest first, missing values 0', () => {
    expect(shapeUsers(q5, [9])).toEqual({
      data_list: [
        { value: 9, time: '2028-03-01T10:00:00Z' }, { value: 0, time: '2028-03-01T10:05:00Z' }, { value: 0, time: '2028-03-01T10:10:00Z' },
      ],
    });
  });

  it('the text and the byte renderings are the same bytes as JSON.stringify of the object', () => {
    for (const q of [q5, ok('play_domain=a.com'), ok('play_domain=a.com&interval=300&start_time=2028-02-01T12:00:00Z')]) {
      const values = Array.from({ length: q.slots.count }, (_, i) => (i * 7919) % 10_007 + (i % 3 === 0 ? 2 ** 40 : 0));
      const text = JSON.stringify(shapeUsers(q, values));
      expect(usersJson(q, values)).toBe(text);
      expect(Buffer.from(renderUsers(q, values)).toString('latin1')).toBe(text);
    }
  });
});
