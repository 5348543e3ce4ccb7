import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { formatUtcSecond } from '../time.js';
import { parseTrafficFilters, resolveTrafficWindow, type TrafficFilters } from './params.js';

const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const NOW_S = NOW - 250;
const D = 86_400_000;
const STORED_400_DAYS = 400 * D;

const filters = (qs: string): TrafficFilters | ApiError => parseTrafficFilters(parseRawQuery(qs));
const failed = (r: unknown): string | undefined => (r instanceof ApiError ? r.body.error_msg : undefined);
const window = (qs: string, storedMs = STORED_400_DAYS) => resolveTrafficWindow(parseRawQuery(qs), NOW, storedMs);
const ts = formatUtcSecond;

describe('parseTrafficFilters', () => {
  it('defaults: every domain, no filter, service_type ALL', () => {
    expect(filters('')).toEqual({
      domains: [], app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [], serviceType: 'ALL',
    });
  });

  it('reads play_domains in request order, normalized and de-duplicated, in both array forms', () => {
    expect((filters('play_domains=B.com,a.com&play_domains=b.COM.&play_domains=%E4%BE%8B%E5%AD%90.com') as TrafficFilters).domains)
      .toEqual(['b.com', 'a.com', 'xn--fsqu00a.com']);
  });

  it('accepts 100 domains and refuses 101', () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `d${i}.com`);
    expect((filters(`play_domains=${list(100).join(',')}`) as TrafficFilters).domains).toHaveLength(100);
    expect(failed(filters(`play_domains=${list(101).join(',')}`))).toBe('Invalid request parameter: play_domains');
    // 101 items naming 100 distinct domains are 100 domains
    expect((filters(`play_domains=${[...list(100), 'D0.com'].join('&play_domains=')}`) as TrafficFilters).domains).toHaveLength(100);
  });

  it('keeps app and stream only with play_domains (ignored without, as the provider documents)', () => {
    expect(filters('play_domains=a.com&app=live&stream=%20s1%20')).toMatchObject({ app: 'live', stream: 's1' });
    expect(filters('app=live&stream=s1')).toMatchObject({ app: undefined, stream: undefined, domains: [] });
  });

  it('sorts region and isp and keeps protocol and service_type', () => {
    expect(filters('region=SH,GD&isp=CUCC&isp=CMCC&protocol=hls&service_type=Live'))
      .toMatchObject({ regions: ['GD', 'SH'], isps: ['CMCC', 'CUCC'], protocol: 'hls', serviceType: 'Live' });
    expect(filters('service_type=LLL')).toMatchObject({ serviceType: 'LLL' });
  });

  it('treats empty values as absent', () => {
    expect(filters('play_domains=&app=&stream=&region=&isp=&protocol=&service_type=')).toEqual(filters(''));
  });

  it.each([
    ['play_domains=a%20b.com', 'play_domains'],
    ['play_domains=a.com:8080', 'play_domains'],
    ['play_domains=%E4%BE', 'play_domains'],
    ['play_domains=a.com&app=a%2Fb', 'app'],
    ['play_domains=a.com&app=one&app=two', 'app'],
    ['play_domains=a.com&app=' + 'x'.repeat(257), 'app'],
    ['play_domains=a.com&stream=s%09x', 'stream'],
    ['app=a%2Fb', 'app'], // still validated when it is then ignored
    ['region=XX', 'region'],
    ['region=gd', 'region'],
    ['isp=cmcc', 'isp'],
    ['isp=CMCC,ATT', 'isp'],
    ['protocol=rtmp', 'protocol'],
    ['protocol=FLV', 'protocol'],
    ['protocol=flv,hls', 'protocol'],
    ['protocol=flv&protocol=hls', 'protocol'],
    ['service_type=live', 'service_type'],
    ['service_type=XYZ', 'service_type'],
    ['play_domains=bad%20domain&protocol=rtmp', 'play_domains'], // the first check that fails is named
    ['region=XX&isp=XX', 'region'],
  ])('%s -> 400 %s', (qs, name) => {
    expect(failed(filters(qs))).toBe(`Invalid request parameter: ${name}`);
  });
});

describe('resolveTrafficWindow', () => {
  it('defaults to the last 7 days ending now', () => {
    expect(window('')).toEqual({ start: NOW_S - 7 * D, end: NOW_S, now: NOW_S });
    expect(window(`end_time=${ts(NOW_S - D)}`)).toEqual({ start: NOW_S - 8 * D, end: NOW_S - D, now: NOW_S });
  });

  it('allows a span of exactly 31 days and refuses 31 days + 1 s', () => {
    const end = NOW_S - D;
    expect(window(`start_time=${ts(end - 31 * D)}&end_time=${ts(end)}`)).toEqual({ start: end - 31 * D, end, now: NOW_S });
    expect(failed(window(`start_time=${ts(end - 31 * D - 1000)}&end_time=${ts(end)}`))).toBe('Invalid request parameter: start_time');
  });

  it('looks back at most 1 year (365 days), or less when less is stored', () => {
    const start = NOW_S - 365 * D;
    expect(window(`start_time=${ts(start)}&end_time=${ts(start + D)}`)).toMatchObject({ start });
    expect(failed(window(`start_time=${ts(start - 1000)}&end_time=${ts(start + D)}`))).toBe('Invalid request parameter: start_time');
    const kept30 = 30 * D;
    expect(window(`start_time=${ts(NOW_S - 30 * D)}&end_time=${ts(NOW_S - 29 * D)}`, kept30)).toMatchObject({ start: NOW_S - 30 * D });
    expect(failed(window(`start_time=${ts(NOW_S - 30 * D - 1000)}&end_time=${ts(NOW_S - 29 * D)}`, kept30)))
      .toBe('Invalid request parameter: start_time');
  });

  it.each([
    ['start_time=2028-03-01T11:00:00z', 'start_time'],
    ['start_time=2028-02-30T00:00:00Z', 'start_time'],
    ['end_time=1835000000', 'end_time'],
    ['start_time=2028-03-01T11:00:00Z&end_time=2028-03-01T11:00:00Z', 'end_time'],
    ['start_time=2028-03-01T11:00:00Z&end_time=2028-03-01T10:00:00Z', 'end_time'],
    ['start_time=2028-03-02T00:00:00Z', 'start_time'], // a future start, end defaulted to now
  ])('%s -> 400 %s', (qs, name) => {
    expect(failed(window(qs))).toBe(`Invalid request parameter: ${name}`);
  });
});
