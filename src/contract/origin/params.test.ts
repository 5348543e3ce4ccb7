import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import {
  parseHistoryQuery, parseOnlineQuery, parseSeriesQuery, parseStreamCountQuery, parseUpBandwidthQuery,
  type HistoryQuery, type OnlineQuery, type SeriesQuery, type UpBandwidthQuery,
} from './params.js';

const NOW = Date.UTC(2028, 2, 1, 12, 7, 30, 250);
const t = (iso: string): number => Date.parse(iso);
const msg = (r: unknown): string | undefined => (r instanceof ApiError ? `${r.status} ${r.body.error_code} ${r.body.error_msg}` : undefined);
const bad = (name: string): string => `400 LIVE.100011001 Invalid request parameter: ${name}`;
const q = parseRawQuery;

describe('ListLiveStreamsOnline parameters', () => {
  it('needs publish_domain; app, stream, offset and limit have defaults', () => {
    expect(parseOnlineQuery(q('publish_domain=Push.Example.COM.'))).toEqual({
      domain: 'push.example.com', app: undefined, stream: undefined, page: 0, limit: 10,
    } satisfies OnlineQuery);
    expect(parseOnlineQuery(q('publish_domain=a.com&app=live&stream=s1&offset=3&limit=100')))
      .toEqual({ domain: 'a.com', app: 'live', stream: 's1', page: 3, limit: 100 });
    expect(msg(parseOnlineQuery(q('')))).toBe(bad('publish_domain'));
    expect(msg(parseOnlineQuery(q('publish_domain=a.com,b.com')))).toBe(bad('publish_domain'));
    expect(msg(parseOnlineQuery(q('publish_domain=a.com&publish_domain=b.com')))).toBe(bad('publish_domain'));
  });
  it('checks offset (a page number from 0) and limit (1..100) exactly', () => {
    for (const v of ['-1', '1.0', '01', 'x', '1e3', '10000000']) expect(msg(parseOnlineQuery(q(`publish_domain=a.com&offset=${v}`)))).toBe(bad('offset'));
    expect(parseOnlineQuery(q('publish_domain=a.com&offset=1000000'))).toMatchObject({ page: 1_000_000 });
    expect(msg(parseOnlineQuery(q('publish_domain=a.com&offset=1000001')))).toBe(bad('offset'));
    for (const v of ['0', '101', '-1', '1000', '5x', '010']) expect(msg(parseOnlineQuery(q(`publish_domain=a.com&limit=${v}`)))).toBe(bad('limit'));
    expect(parseOnlineQuery(q('publish_domain=a.com&limit=1'))).toMatchObject({ limit: 1 });
  });
  it('refuses names with a slash or control characters, and names the first parameter at fault', () => {
    expect(msg(parseOnlineQuery(q('publish_domain=a.com&app=a%2Fb')))).toBe(bad('app'));
    expect(msg(parseOnlineQuery(q('publish_domain=a.com&stream=%01')))).toBe(bad('stream'));
    expect(msg(parseOnlineQuery(q(`publish_domain=a.com&stream=${'s'.repeat(257)}`)))).toBe(bad('stream'));
    expect(msg(parseOnlineQuery(q('publish_domain=a/b&app=a%2Fb&limit=0')))).toBe(bad('publish_domain'));
    expect(msg(parseOnlineQuery(q('publish_domain=a.com&app=a%2Fb&limit=0')))).toBe(bad('app'));
  });
});

describe('ListHistoryStreams parameters', () => {
  it('reads domain as an array (both forms, <= 100), default window the last day', () => {
    const r = parseHistoryQuery(q('domain=B.com,a.com&domain=b.com'), NOW) as HistoryQuery;
    expect(r.domains).toEqual(['b.com', 'a.com']);
    expect(r.window).toEqual({ start: t('2028-02-29T12:07:30Z'), end: t('2028-03-01T12:07:30Z'), now: t('2028-03-01T12:07:30Z') });
    const list = (n: number): string => Array.from({ length: n }, (_, i) => `d${i}.com`).join(',');
    expect((parseHistoryQuery(q(`domain=${list(100)}`), NOW) as HistoryQuery).domains).toHaveLength(100);
    expect(msg(parseHistoryQuery(q(`domain=${list(101)}`), NOW))).toBe(bad('domain'));
    expect(msg(parseHistoryQuery(q(''), NOW))).toBe(bad('domain'));
  });
  it('span <= 1 day, look-back <= 1 year', () => {
    expect(parseHistoryQuery(q('domain=a.com&start_time=2028-02-29T00:00:00Z&end_time=2028-03-01T00:00:00Z'), NOW)).toMatchObject({ page: 0, limit: 10 });
    expect(msg(parseHistoryQuery(q('domain=a.com&start_time=2028-02-29T00:00:00Z&end_time=2028-03-01T00:00:01Z'), NOW))).toBe(bad('start_time'));
    expect(msg(parseHistoryQuery(q('domain=a.com&start_time=2027-03-02T12:07:29Z&end_time=2027-03-03T00:00:00Z'), NOW))).toBe(bad('start_time'));
    expect(parseHistoryQuery(q('domain=a.com&start_time=2027-03-02T12:07:30Z&end_time=2027-03-03T00:00:00Z'), NOW)).not.toBeInstanceOf(ApiError);
    expect(msg(parseHistoryQuery(q('domain=a.com&end_time=2028-03-01T00:00:00Z&start_time=2028-03-01T00:00:00Z'), NOW))).toBe(bad('end_time'));
  });
});

describe('ShowStreamCount and ShowUpBandwidth parameters', () => {
  it('stream count: 5-minute slots over the default 7 days, the current slot included', () => {
    const r = parseStreamCountQuery(q('publish_domains=a.com'), NOW);
    expect(r).toEqual({ domains: ['a.com'], slots: { slotMs: 300_000, from: t('2028-02-23T12:05:00Z'), to: t('2028-03-01T12:10:00Z'), count: 2017 } });
    expect(msg(parseStreamCountQuery(q('publish_domains=a.com&start_time=2028-01-01T00:00:00Z&end_time=2028-02-01T00:00:01Z'), NOW))).toBe(bad('start_time'));
    expect(msg(parseStreamCountQuery(q('play_domains=a.com'), NOW))).toBe(bad('publish_domains'));
  });
  it('up bandwidth: every filter, interval and type', () => {
    const r = parseUpBandwidthQuery(q('publish_domains=a.com&app=live&stream=s&region=SH,GD&isp=CUCC&interval=3600&type=RELAY&start_time=2028-03-01T09:30:00Z&end_time=2028-03-01T11:00:00Z'), NOW);
    expect(r).toEqual({
      domains: ['a.com'], app: 'live', stream: 's', regions: ['GD', 'SH'], isps: ['CUCC'], interval: 3600, type: 'relay',
      slots: { slotMs: 3_600_000, from: t('2028-03-01T09:00:00Z'), to: t('2028-03-01T11:00:00Z'), count: 2 },
    } satisfies UpBandwidthQuery);
    expect(parseUpBandwidthQuery(q('publish_domains=a.com'), NOW)).toMatchObject({ interval: 300, type: 'publish', regions: [], isps: [] });
    expect(msg(parseUpBandwidthQuery(q('publish_domains=a.com&region=XX'), NOW))).toBe(bad('region'));
    expect(msg(parseUpBandwidthQuery(q('publish_domains=a.com&isp=cmcc'), NOW))).toBe(bad('isp'));
    expect(msg(parseUpBandwidthQuery(q('publish_domains=a.com&interval=60'), NOW))).toBe(bad('interval'));
    expect(msg(parseUpBandwidthQuery(q('publish_domains=a.com&type=relay'), NOW))).toBe(bad('type'));
    expect(msg(parseUpBandwidthQuery(q('publish_domains=a.com&type=PUBLISH'), NOW))).toBe(bad('type'));
  });
});

describe('per-stream series parameters', () => {
  it('bitrate and framerate read domain; detail and up-stream read publish_domain; app and stream are required', () => {
    expect(parseSeriesQuery(q('domain=A.com&app=live&stream=s'), 'bitrate', NOW)).toEqual({
      kind: 'bitrate', domain: 'a.com', app: 'live', stream: 's', type: 'VIDEO', start: t('2028-03-01T11:07:30Z'), end: t('2028-03-01T12:07:30Z'),
    } satisfies SeriesQuery);
    expect(parseSeriesQuery(q('domain=a.com&app=live&stream=s&type=AUDIO'), 'bitrate', NOW)).toMatchObject({ type: 'AUDIO' });
    expect(msg(parseSeriesQuery(q('domain=a.com&app=live&stream=s&type=audio'), 'bitrate', NOW))).toBe(bad('type'));
    expect(msg(parseSeriesQuery(q('publish_domain=a.com&app=live&stream=s'), 'framerate', NOW))).toBe(bad('domain'));
    expect(msg(parseSeriesQuery(q('domain=a.com&app=live&stream=s'), 'detail', NOW))).toBe(bad('publish_domain'));
    expect(parseSeriesQuery(q('publish_domain=a.com&app=live&stream=s'), 'upstream', NOW)).toMatchObject({ kind: 'upstream' });
    expect(msg(parseSeriesQuery(q('domain=a.com&stream=s'), 'framerate', NOW))).toBe(bad('app'));
    expect(msg(parseSeriesQuery(q('domain=a.com&app=live'), 'framerate', NOW))).toBe(bad('stream'));
  });
  it('span <= 1 day, look-back <= 31 days, end clamped to now', () => {
    expect(parseSeriesQuery(q('domain=a.com&app=l&stream=s&start_time=2028-03-01T12:00:00Z&end_time=2028-03-01T13:00:00Z'), 'framerate', NOW))
      .toMatchObject({ start: t('2028-03-01T12:00:00Z'), end: t('2028-03-01T12:07:30Z') });
    expect(msg(parseSeriesQuery(q('domain=a.com&app=l&stream=s&start_time=2028-01-30T12:07:29Z&end_time=2028-01-30T13:00:00Z'), 'framerate', NOW))).toBe(bad('start_time'));
    expect(parseSeriesQuery(q('domain=a.com&app=l&stream=s&start_time=2028-01-30T12:07:30Z&end_time=2028-01-30T13:00:00Z'), 'framerate', NOW)).not.toBeInstanceOf(ApiError);
    expect(msg(parseSeriesQuery(q('domain=a.com&app=l&stream=s&start_time=2028-03-01T00:00:00Z&end_time=2028-03-02T00:00:01Z'), 'framerate', NOW))).toBe(bad('start_time'));
    expect(msg(parseSeriesQuery(q('domain=a.com&app=l&stream=s&end_time=2028-03-01T25:00:00Z'), 'framerate', NOW))).toBe(bad('end_time'));
    // the look-back can be shortened to what is stored
    expect(msg(parseSeriesQuery(q('domain=a.com&app=l&stream=s&start_time=2028-02-20T00:00:00Z&end_time=2028-02-20T01:00:00Z'), 'framerate', NOW, 8 * 86_400_000))).toBe(bad('start_time'));
  });
});
