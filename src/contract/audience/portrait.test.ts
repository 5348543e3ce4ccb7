import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { EMPTY_PORTRAIT, formatDay, parseDay, parsePortraitQuery, shapePortrait } from './portrait.js';

const D = 86_400_000;
const NOW = Date.UTC(2028, 2, 1, 0, 0, 5);
const parse = (qs: string, storedMs = 400 * D, streamMs = storedMs) => parsePortraitQuery(parseRawQuery(qs), NOW, { domainMs: storedMs, streamMs });
const failed = (r: unknown): string | undefined => (r instanceof ApiError ? r.body.error_msg : undefined);

describe('parsePortraitQuery', () => {
  it('reads the domain, the optional stream and the day', () => {
    expect(parse('play_domain=A.com&stream=s1&time=20280229')).toEqual({ domain: 'a.com', stream: 's1', day: Date.UTC(2028, 1, 29) });
    expect(parse('play_domain=a.com&time=20280130')).toEqual({ domain: 'a.com', stream: undefined, day: Date.UTC(2028, 0, 30) });
  });

  it.each([
    ['time=20280229', 'play_domain'],
    ['play_domain=a.com', 'time'],
    ['play_domain=a.com&stream=a%2Fb&time=20280229', 'stream'],
    ['play_domain=a.com&time=20280301', 'time'], // today
    ['play_domain=a.com&time=20280302', 'time'], // future
    ['play_domain=a.com&time=20280129', 'time'], // 32 days back
    ['play_domain=a.com&time=20270229', 'time'], // not a date
    ['play_domain=a.com&time=2028-02-29', 'time'],
    ['play_domain=a.com&time=2028229', 'time'],
  ])('%s -> 400 naming %s', (qs, name) => {
    expect(failed(parse(qs))).toBe(`Invalid request parameter: ${name}`);
  });

  it('looks back no further than what is stored', () => {
    expect(failed(parse('play_domain=a.com&time=20280220', 10 * D))).toBe('Invalid request parameter: time');
    expect(failed(parse('play_domain=a.com&time=20280220', 10 * D + 1000))).toBe('Invalid request parameter: time');
    expect(failed(parse('play_domain=a.com&time=20280220', 11 * D))).toBeUndefined();
    expect(failed(parse('play_domain=a.com&stream=s&time=20280220', 11 * D, 10 * D))).toBe('Invalid request parameter: time');
  });
});

describe('days', () => {
  it('parses and formats YYYYMMDD in UTC', () => {
    expect(parseDay('20240229')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDay('20230229')).toBeUndefined();
    expect(parseDay('20231301')).toBeUndefined();
    expect(formatDay(Date.UTC(2024, 1, 29))).toBe('20240229');
  });
});

describe('shapePortrait', () => {
  it('one entry for the day; peak_bandwidth from the largest 5-minute bytes', () => {
    const q = { domain: 'a.com', stream: undefined, day: Date.UTC(2028, 1, 29) };
    expect(shapePortrait(q, { flow: 1e9, requests: 12, playSeconds: 3600, users: 5, peakUsers: 4, peakBytes5m: 37_500_019, pushSeconds: 7 }))
      .toEqual({
        stream_portraits: [{
          time: '20280229', flow: 1e9, play_duration: 3600, request_count: 12, user_count: 5, peak_user_count: 4,
          peak_bandwidth: 1_000_001, push_duration: 7,
        }],
      });
    expect(shapePortrait(q, EMPTY_PORTRAIT).stream_portraits[0]?.peak_bandwidth).toBe(0);
  });
});
