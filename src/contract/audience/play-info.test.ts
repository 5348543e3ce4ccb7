import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { parsePlayInfoQuery, playInfoEntries, shapePlayInfo, type PlayInfoCell } from './play-info.js';

const D = 86_400_000;
const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const parse = (qs: string, storedMs = 30 * D) => parsePlayInfoQuery(parseRawQuery(qs), NOW, storedMs);
const failed = (r: unknown): string | undefined => (r instanceof ApiError ? r.body.error_msg : undefined);

describe('parsePlayInfoQuery', () => {
  it('reads the domains (optional, normalized, both array forms) and the minute', () => {
    expect(parse('play_domains=B.com,a.com&play_domains=b.com&time=2028-03-01T11:59:00Z'))
      .toEqual({ domains: ['b.com', 'a.com'], minute: Date.UTC(2028, 2, 1, 11, 59) });
    expect(parse('time=2028-03-01T12:00:00Z')).toEqual({ domains: [], minute: Date.UTC(2028, 2, 1, 12, 0) });
  });

  it.each([
    ['', 'time'],
    ['time=', 'time'],
    ['time=2028-03-01T11:59:30Z', 'time'], // not a whole minute
    ['time=2028-03-01T11:59Z', 'time'],
    ['time=2028-02-30T11:59:00Z', 'time'],
    ['time=2028-03-01T12:01:00Z', 'time'], // has not begun
    ['time=2028-02-23T11:59:00Z', 'time'], // more than 7 days back
    [`play_domains=${Array.from({ length: 11 }, (_, i) => `d${i}.com`).join(',')}&time=2028-03-01T11:59:00Z`, 'play_domains'],
    ['play_domains=a.com/x&time=x', 'play_domains'],
  ])('%s -> 400 naming %s', (qs, name) => {
    expect(failed(parse(qs))).toBe(`Invalid request parameter: ${name}`);
  });

  it('accepts exactly 7 days back and ten domains; looks back no further than what is stored', () => {
    expect(failed(parse('time=2028-02-23T12:01:00Z'))).toBeUndefined();
    expect(failed(parse(`play_domains=${Array.from({ length: 10 }, (_, i) => `d${i}.com`).join(',')}&time=2028-03-01T11:00:00Z`))).toBeUndefined();
    expect(failed(parse('time=2028-02-28T12:00:00Z', 2 * D))).toBe('Invalid request parameter: time');
  });
});

describe('playInfoEntries', () => {
  const cell = (domain: string, app: string, stream: string, protocol: string, bytes: number, online: number): PlayInfoCell =>
    ({ domain, app, stream, protocol, bytes, online });

  it('orders by domain, stream, protocol (then app); bandwidth is bytes x 8 / 60 half-up; unknown shapes and empty cells are left out', () => {
    const cells = [
      cell('b.com', 'live', 's1', 'hls', 15, 2),
      cell('a.com', 'live', 's2', 'flv', 0, 1),
      cell('a.com', 'live', 's1', 'rtmp', 60, 1),
      cell('a.com', 'zz', 's1', 'flv', 7, 3),
      cell('a.com', 'aa', 's1', 'flv', 8, 4),
      cell('a.com', '', '', 'other', 600, 0),
      cell('a.com', 'live', 's3', 'hls', 0, 0),
    ];
    expect(playInfoEntries(cells)).toEqual([
      { play_domain: 'a.com', stream: 's1', protocol: 'flv', bandwidth: 1, online: 4 }, // 8*8/60 = 1.07
      { play_domain: 'a.com', stream: 's1', protocol: 'flv', bandwidth: 1, online: 3 }, // 7*8/60 = 0.93 -> 1
      { play_domain: 'a.com', stream: 's1', protocol: 'rtmp', bandwidth: 8, online: 1 },
      { play_domain: 'a.com', stream: 's2', protocol: 'flv', bandwidth: 0, online: 1 },
      { play_domain: 'b.com', stream: 's1', protocol: 'hls', bandwidth: 2, online: 2 }, // 15*8/60 = 2
    ]);
  });

  it('shapes the answer with the minute', () => {
    expect(shapePlayInfo({ domains: [], minute: Date.UTC(2028, 2, 1, 11, 59) }, [])).toEqual({ time: '2028-03-01T11:59:00Z', data_list: [] });
  });
});
