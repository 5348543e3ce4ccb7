import { describe, expect, it } from 'vitest';
import type { HistoryQuery, OnlineQuery } from './params.js';
import { pageOf, shapeHistory, shapeOnline, shapeStreamCount, shapeUpBandwidth, streamCounts, totalPages, type SessionView } from './sessions.js';

const t = (iso: string): number => Date.parse(iso);
const NOW = t('2028-03-01T12:07:30Z');
const s = (stream: string, start: string, end: string | null, over: Partial<SessionView> = {}): SessionView => ({
  domain: 'push.example.com', app: 'live', stream, clientIp: '10.0.0.1', type: 0, videoCodec: 'H264', audioCodec: 'AAC',
  start: t(start), end: end === null ? null : t(end), frameRate: 25, bitrateKbps: 1500, width: 1280, height: 720, ...over,
});

describe('paging', () => {
  it('offset is the page number; total_page = ceil(total / limit)', () => {
    const list = [1, 2, 3, 4, 5, 6, 7];
    expect(pageOf(list, { page: 0, limit: 3 })).toEqual([1, 2, 3]);
    expect(pageOf(list, { page: 2, limit: 3 })).toEqual([7]);
    expect(pageOf(list, { page: 3, limit: 3 })).toEqual([]);
    expect([totalPages(7, 3), totalPages(6, 3), totalPages(0, 10)]).toEqual([3, 2, 0]);
  });
});

describe('ListLiveStreamsOnline', () => {
  const sessions = [
    s('a', '2028-03-01T10:00:00Z', null),
    s('b', '2028-03-01T11:00:00Z', null, { app: 'other', width: 0, clientIp: '10.0.0.2' }),
    s('c', '2028-03-01T09:00:00Z', '2028-03-01T09:30:00Z'),
    s('d', '2028-03-01T12:00:00Z', null, { domain: 'other.example.com' }),
    s('e', '2028-03-01T10:00:00Z', null, { type: 1 }),
  ];
  const q = (over: Partial<OnlineQuery> = {}): OnlineQuery => ({ domain: 'push.example.com', app: undefined, stream: undefined, page: 0, limit: 10, ...over });
  it('open sessions of the domain, newest first (ties by name), with the latest rate, paged', () => {
    expect(shapeOnline(q(), sessions, 'req1')).toEqual({
      total_page: 1, total_num: 3, offset: 0, limit: 10, request_id: 'req1',
      streams: [
        { publish_domain: 'push.example.com', app: 'other', stream: 'b', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '', client_ip: '10.0.0.2', start_time: '2028-03-01T11:00:00Z' },
        { publish_domain: 'push.example.com', app: 'live', stream: 'a', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '1280x720', client_ip: '10.0.0.1', start_time: '2028-03-01T10:00:00Z' },
        { publish_domain: 'push.example.com', app: 'live', stream: 'e', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '1280x720', client_ip: '10.0.0.1', start_time: '2028-03-01T10:00:00Z' },
      ],
    });
    const p = shapeOnline(q({ page: 1, limit: 2 }), sessions, 'r');
    expect([p.total_page, p.total_num, p.offset, p.limit, p.streams.map((x) => x.stream)]).toEqual([2, 3, 1, 2, ['e']]);
    expect(shapeOnline(q({ app: 'live', stream: 'e' }), sessions, 'r').streams.map((x) => x.stream)).toEqual(['e']);
  });
});

describe('ListHistoryStreams', () => {
  const window = { start: t('2028-03-01T09:00:00Z'), end: t('2028-03-01T10:00:00Z'), now: NOW };
  const q = (over: Partial<HistoryQuery> = {}): HistoryQuery => ({ domains: ['push.example.com'], app: undefined, stream: undefined, page: 0, limit: 10, window, ...over });
  const sessions = [
    s('before', '2028-03-01T08:00:00Z', '2028-03-01T09:00:00Z'), // ends at the window start: out
    s('over-start', '2028-03-01T08:30:00Z', '2028-03-01T09:00:01Z'),
    s('inside', '2028-03-01T09:10:00Z', '2028-03-01T09:20:00Z', { type: 1, clientIp: '192.0.2.9' }),
    s('at-end', '2028-03-01T10:00:00Z', null), // starts at the window end: out
    s('open', '2028-03-01T09:59:59Z', null),
    s('other-domain', '2028-03-01T09:10:00Z', null, { domain: 'x.example.com' }),
  ];
  it('sessions overlapping [start, end), newest first; an open one ends at now', () => {
    expect(shapeHistory(q(), sessions)).toEqual({
      history_stream_list: [
        { domain: 'push.example.com', app: 'live', stream: 'open', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '10.0.0.1', start_time: '2028-03-01T09:59:59Z', end_time: '2028-03-01T12:07:30Z' },
        { domain: 'push.example.com', app: 'live', stream: 'inside', type: 1, video_codec: 'H264', audio_codec: 'AAC', client_ip: '192.0.2.9', start_time: '2028-03-01T09:10:00Z', end_time: '2028-03-01T09:20:00Z' },
        { domain: 'push.example.com', app: 'live', stream: 'over-start', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '10.0.0.1', start_time: '2028-03-01T08:30:00Z', end_time: '2028-03-01T09:00:01Z' },
      ],
      total: 3,
    });
    expect(shapeHistory(q({ page: 1, limit: 2 }), sessions)).toMatchObject({ total: 3, history_stream_list: [{ stream: 'over-start' }] });
    expect(shapeHistory(q({ domains: ['push.example.com', 'x.example.com'] }), sessions).total).toBe(4);
  });
});

describe('ShowStreamCount and ShowUpBandwidth', () => {
  const slots = { slotMs: 300_000, from: t('2028-03-01T10:00:00Z'), to: t('2028-03-01T10:20:00Z'), count: 4 };
  it('per slot the most sessions open at once, per domain, summed over the domains', () => {
    const sessions = [
      s('a', '2028-03-01T09:00:00Z', '2028-03-01T10:02:00Z'),
      s('b', '2028-03-01T10:02:00Z', '2028-03-01T10:06:00Z'), // starts as a ends: never at once with a
      s('c', '2028-03-01T10:03:00Z', '2028-03-01T10:04:00Z'),
      s('d', '2028-03-01T10:12:00Z', null),
      s('e', '2028-03-01T10:01:00Z', '2028-03-01T10:01:30Z', { domain: 'x.example.com' }),
      s('f', '2028-03-01T10:05:00Z', '2028-03-01T10:10:00Z', { domain: 'not-asked.example.com' }),
    ];
    // slot 10:00: a, then b+c at once = 2 on push; e on x = 1 -> 3. 10:05: b (until 10:06) = 1. 10:10: d from 10:12 = 1. 10:15: d = 1
    expect(streamCounts(slots, ['push.example.com', 'x.example.com'], sessions, NOW)).toEqual([3, 1, 1, 1]);
    expect(shapeStreamCount({ domains: [], slots }, [3, 1, 1, 1]).data_list).toEqual([
      { value: 3, time: '2028-03-01T10:00:00Z' }, { value: 1, time: '2028-03-01T10:05:00Z' },
      { value: 1, time: '2028-03-01T10:10:00Z' }, { value: 1, time: '2028-03-01T10:15:00Z' },
    ]);
  });
  it('up bandwidth: bytes x 8 / slot seconds, half-up', () => {
    const r = shapeUpBandwidth({ domains: [], app: undefined, stream: undefined, regions: [], isps: [], interval: 300, type: 'publish', slots }, [75, 0, 1_000_000, 2 ** 50]);
    expect(r.data_list.map((e) => e.value)).toEqual([2, 0, 26_667, 30_023_997_515_803]);
  });
});
