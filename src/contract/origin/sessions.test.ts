import { describe, expect, it } from 'vitest';
import type { HistoryQuery, OnlineQuery } from './params.js';
import { resolutionOf, shapeHistory, shapeOnline, shapeStreamCount, shapeUpBandwidth, totalPages, type SessionView } from './sessions.js';

const t = (iso: string): number => Date.parse(iso);
const NOW = t('2028-03-01T12:07:30Z');
const s = (stream: string, start: string, end: string | null, over: Partial<SessionView> = {}): SessionView => ({
  domain: 'push.example.com', app: 'live', stream, clientIp: '10.0.0.1', type: 0, videoCodec: 'H264', audioCodec: 'AAC',
  start: t(start), end: end === null ? null : t(end), frameRate: 25, bitrate: 1500, width: 1280, height: 720, ...over,
});

describe('paging and fields', () => {
  it('total_page = ceil(total / limit); resolution WIDTHxHEIGHT or empty when unknown', () => {
    expect([totalPages(7, 3), totalPages(6, 3), totalPages(0, 10), totalPages(1, 100)]).toEqual([3, 2, 0, 1]);
    expect([resolutionOf({ width: 1920, height: 1080 }), resolutionOf({ width: 0, height: 1080 })]).toEqual(['1920x1080', '']);
  });
});

describe('ListLiveStreamsOnline', () => {
  const q = (over: Partial<OnlineQuery> = {}): OnlineQuery => ({ domain: 'push.example.com', app: undefined, stream: undefined, page: 0, limit: 2, ...over });
  it('the store\'s page with the request\'s paging echoed', () => {
    const page = { total: 3, sessions: [s('b', '2028-03-01T11:00:00Z', null, { app: 'other', width: 0, clientIp: '10.0.0.2' }), s('a', '2028-03-01T10:00:00Z', null)] };
    expect(shapeOnline(q(), page, 'req1')).toEqual({
      total_page: 2, total_num: 3, offset: 0, limit: 2, request_id: 'req1',
      streams: [
        { publish_domain: 'push.example.com', app: 'other', stream: 'b', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '', client_ip: '10.0.0.2', start_time: '2028-03-01T11:00:00Z' },
        { publish_domain: 'push.example.com', app: 'live', stream: 'a', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500, resolution: '1280x720', client_ip: '10.0.0.1', start_time: '2028-03-01T10:00:00Z' },
      ],
    });
    expect(shapeOnline(q({ page: 7 }), { total: 3, sessions: [] }, 'r')).toEqual({ total_page: 2, total_num: 3, offset: 7, limit: 2, request_id: 'r', streams: [] });
  });
});

describe('ListHistoryStreams', () => {
  const window = { start: t('2028-03-01T09:00:00Z'), end: t('2028-03-01T10:00:00Z'), now: NOW };
  const q: HistoryQuery = { domains: ['push.example.com'], app: undefined, stream: undefined, page: 0, limit: 10, window };
  it('type, client and times; an open session ends at now', () => {
    const page = { total: 12, sessions: [s('open', '2028-03-01T09:59:59Z', null), s('relay', '2028-03-01T09:10:00Z', '2028-03-01T09:20:00Z', { type: 1, clientIp: '192.0.2.9' })] };
    expect(shapeHistory(q, page)).toEqual({
      history_stream_list: [
        { domain: 'push.example.com', app: 'live', stream: 'open', type: 0, video_codec: 'H264', audio_codec: 'AAC', client_ip: '10.0.0.1', start_time: '2028-03-01T09:59:59Z', end_time: '2028-03-01T12:07:30Z' },
        { domain: 'push.example.com', app: 'live', stream: 'relay', type: 1, video_codec: 'H264', audio_codec: 'AAC', client_ip: '192.0.2.9', start_time: '2028-03-01T09:10:00Z', end_time: '2028-03-01T09:20:00Z' },
      ],
      total: 12,
    });
  });
});

describe('ShowStreamCount and ShowUpBandwidth', () => {
  const slots = { slotMs: 300_000, from: t('2028-03-01T10:00:00Z'), to: t('2028-03-01T10:20:00Z'), count: 4 };
  it('stream count: one entry per slot, zero-filled', () => {
    expect(shapeStreamCount({ domains: [], slots }, [3, 1]).data_list).toEqual([
      { value: 3, time: '2028-03-01T10:00:00Z' }, { value: 1, time: '2028-03-01T10:05:00Z' },
      { value: 0, time: '2028-03-01T10:10:00Z' }, { value: 0, time: '2028-03-01T10:15:00Z' },
    ]);
  });
  it('up bandwidth: bytes x 8 / slot seconds, half-up', () => {
    const r = shapeUpBandwidth({ domains: [], app: undefined, stream: undefined, regions: [], isps: [], interval: 300, type: 'publish', slots }, [75, 0, 1_000_000, 2 ** 50]);
    expect(r.data_list.map((e) => e.value)).toEqual([2, 0, 26_667, 30_023_997_515_803]);
  });
});
