import { describe, expect, it } from 'vitest';
import {
  breaks, codecs, formatKbps, formatSpan, hasNext, pageLabel, parseHistory, parseOnline, parseRuns, runPoints, withViewers,
} from './streams-shape.js';

const T = Date.UTC(2028, 2, 1, 10, 0);
const live = {
  publish_domain: 'push.example.com', app: 'live', stream: 'cam1', video_codec: 'H264', audio_codec: 'AAC', frame_rate: 25, bitrate: 1500,
  resolution: '1280x720', client_ip: '203.0.113.5', start_time: '2028-03-01T10:00:00Z',
};

describe('live streams', () => {
  it('reads a ListLiveStreamsOnline page and refuses a malformed one', () => {
    expect(parseOnline({ total_page: 1, total_num: 1, offset: 0, limit: 10, request_id: 'r', streams: [live] })).toEqual({
      total: 1,
      streams: [{
        domain: 'push.example.com', app: 'live', stream: 'cam1', videoCodec: 'H264', audioCodec: 'AAC', fps: 25, kbps: 1500,
        resolution: '1280x720', clientIp: '203.0.113.5', start: T,
      }],
    });
    expect(() => parseOnline({ total_num: 1, streams: [{ ...live, bitrate: -1 }] })).toThrow(/Unexpected response/);
    expect(() => parseOnline({ total_num: 1, streams: [{ ...live, start_time: 'yesterday' }] })).toThrow(/start_time/);
    expect(() => parseOnline({ streams: [] })).toThrow(/no streams/);
  });

  it('adds viewers by stream name, summed over play domains and protocols; unknown without play-info', () => {
    const rows = parseOnline({ total_num: 2, streams: [live, { ...live, stream: 'cam2' }] }).streams;
    const play = [
      { domain: 'a.example.com', stream: 'cam1', protocol: 'flv', bandwidth: 1, online: 100 },
      { domain: 'b.example.com', stream: 'cam1', protocol: 'hls', bandwidth: 1, online: 50 },
      { domain: 'a.example.com', stream: 'other', protocol: 'flv', bandwidth: 1, online: 7 },
    ];
    expect(withViewers(rows, play).map((r) => r.viewers)).toEqual([150, 0]);
    expect(withViewers(rows, undefined).map((r) => r.viewers)).toEqual([undefined, undefined]);
  });

  it('codecs and units', () => {
    expect(codecs('H264', 'AAC')).toBe('H264 / AAC');
    expect(codecs('HEVC', '')).toBe('HEVC');
    expect(codecs('', '')).toBe('—');
    expect(formatKbps(1500)).toBe('1,500 kbps');
    expect(formatKbps(12_345)).toBe('12.3 Mbps');
    expect(formatSpan(12)).toBe('12 s');
    expect(formatSpan(187)).toBe('3 min 07 s');
    expect(formatSpan(3900)).toBe('1 h 05 min');
  });
});

describe('per-second runs', () => {
  const body = {
    framerate_info_list: [
      { publish_domain: 'p', app: 'live', stream: 'cam1', start_time: '2028-03-01T10:00:07Z', end_time: '2028-03-01T10:00:09Z', data_list: [25, 26] },
      { publish_domain: 'p', app: 'live', stream: 'cam1', start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:03Z', data_list: [24, 25, 26] },
    ],
  };

  it('reads runs oldest first and refuses a run whose values do not cover its seconds', () => {
    expect(parseRuns(body, 'framerate_info_list')).toEqual([{ start: T, values: [24, 25, 26] }, { start: T + 7000, values: [25, 26] }]);
    const short = { framerate_info_list: [{ start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:03Z', data_list: [1] }] };
    expect(() => parseRuns(short, 'framerate_info_list')).toThrow(/does not cover/);
    expect(() => parseRuns(body, 'bitrate_info_list')).toThrow(/no bitrate_info_list/);
    expect(parseRuns({ bitrate_info_list: [] }, 'bitrate_info_list')).toEqual([]);
  });

  it('draws each run as its own segment: a null between runs, none inside one', () => {
    const runs = parseRuns(body, 'framerate_info_list');
    expect(runPoints(runs)).toEqual([[T, 24], [T + 1000, 25], [T + 2000, 26], [T + 6500, null], [T + 7000, 25], [T + 8000, 26]]);
    expect(runPoints([{ start: T, values: [1, 2] }])).toEqual([[T, 1], [T + 1000, 2]]);
    expect(runPoints([])).toEqual([]);
    expect(breaks(runs)).toEqual([[T + 3000, T + 7000]]);
  });
});

describe('history', () => {
  const h = {
    domain: 'push.example.com', app: 'live', stream: 'relay1', type: 1, video_codec: 'HEVC', audio_codec: '', client_ip: '198.51.100.7',
    start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T11:00:00Z',
  };
  it('reads a page of sessions and refuses a malformed one', () => {
    expect(parseHistory({ history_stream_list: [h], total: 11 })).toEqual({
      total: 11,
      rows: [{ domain: 'push.example.com', app: 'live', stream: 'relay1', relay: true, videoCodec: 'HEVC', audioCodec: '', clientIp: '198.51.100.7', start: T, end: T + 3_600_000 }],
    });
    expect(() => parseHistory({ history_stream_list: [{ ...h, type: 2 }], total: 1 })).toThrow(/Unexpected response/);
    expect(() => parseHistory({ total: 1 })).toThrow(/history_stream_list/);
  });

  it('pages', () => {
    expect(pageLabel(0, 0, 10)).toBe('page 1 of 1 (0 sessions)');
    expect(pageLabel(1, 11, 10)).toBe('page 2 of 2 (11 sessions)');
    expect(pageLabel(0, 1, 10)).toBe('page 1 of 1 (1 session)');
    expect(hasNext(0, 11, 10)).toBe(true);
    expect(hasNext(1, 11, 10)).toBe(false);
    expect(hasNext(0, 10, 10)).toBe(false);
  });
});
