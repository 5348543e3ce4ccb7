import { describe, expect, it } from 'vitest';
import {
  PROVISIONAL_MS, formatDuration, nextSort, parsePlayInfo, parsePortrait, parseUsers, provisionalFrom, sortStreams, splitProvisional, topSeries,
  utcDay, type LiveStream,
} from './viewers-shape.js';

const T = Date.UTC(2028, 2, 1, 12, 0);
const M = 60_000;

describe('parsing', () => {
  it('reads a users answer and refuses a malformed one', () => {
    expect(parseUsers({ data_list: [{ value: 3, time: '2028-03-01T12:00:00Z' }] })).toEqual([{ time: T, value: 3 }]);
    expect(() => parseUsers({ data_list: [{ value: -1, time: '2028-03-01T12:00:00Z' }] })).toThrow(/Unexpected response/);
    expect(() => parseUsers({})).toThrow(/data_list/);
  });
  it('reads play-info and a portrait', () => {
    expect(parsePlayInfo({ time: '2028-03-01T12:00:00Z', data_list: [{ play_domain: 'a.com', stream: 's', protocol: 'flv', bandwidth: 8, online: 2 }] }))
      .toEqual({ time: T, streams: [{ domain: 'a.com', stream: 's', protocol: 'flv', bandwidth: 8, online: 2 }] });
    const entry = { time: '20280229', flow: 1, play_duration: 2, request_count: 3, user_count: 4, peak_user_count: 5, peak_bandwidth: 6, push_duration: 7 };
    expect(parsePortrait({ stream_portraits: [entry] })).toEqual({
      day: '20280229', flow: 1, playDuration: 2, requests: 3, users: 4, peakUsers: 5, peakBandwidth: 6, pushDuration: 7,
    });
    expect(() => parsePortrait({ stream_portraits: [entry, entry] })).toThrow();
    expect(() => parsePortrait({ stream_portraits: [{ ...entry, flow: 'x' }] })).toThrow(/flow/);
  });
});

describe('provisional minutes', () => {
  it('with FLV possible: slots ending within the last 10 minutes; HLS only: the slot under way', () => {
    const now = T + 30_000;
    expect(provisionalFrom(now, M, '')).toBe(T - PROVISIONAL_MS);
    expect(provisionalFrom(now, 5 * M, 'flv')).toBe(T - 10 * M);
    expect(provisionalFrom(now, M, 'hls')).toBe(T);
    expect(provisionalFrom(now, 5 * M, 'hls')).toBe(T);
  });
  it('splits a series so the settled line ends where the provisional one starts', () => {
    const pts = [0, 1, 2, 3].map((i) => ({ time: T + i * M, value: i * 10 }));
    expect(splitProvisional('a', pts, T + 2 * M)).toEqual({
      name: 'a', settled: [[T, 0], [T + M, 10], [T + 2 * M, 20]], provisional: [[T + 2 * M, 20], [T + 3 * M, 30]],
    });
    expect(splitProvisional('a', pts, T + 9 * M).provisional).toEqual([]);
    expect(splitProvisional('a', pts, T).settled).toEqual([]);
  });
});

describe('series and table', () => {
  it('keeps the busiest series with viewers', () => {
    const s = (name: string, peak: number) => ({ name, points: [{ time: T, value: peak }] });
    expect(topSeries([s('a', 1), s('b', 0), s('c', 5), s('d', 5)], 2).map((x) => x.name)).toEqual(['c', 'd']);
  });
  it('sorts the live streams by a column, numbers busiest first, a second click flips', () => {
    const rows: LiveStream[] = [
      { domain: 'a.com', stream: 's1', protocol: 'flv', bandwidth: 10, online: 3 },
      { domain: 'a.com', stream: 's2', protocol: 'hls', bandwidth: 30, online: 1 },
      { domain: 'b.com', stream: 's0', protocol: 'flv', bandwidth: 20, online: 3 },
    ];
    let sort = nextSort({ key: 'online', descending: true }, 'bandwidth');
    expect(sort).toEqual({ key: 'bandwidth', descending: true });
    expect(sortStreams(rows, sort).map((r) => r.stream)).toEqual(['s2', 's0', 's1']);
    sort = nextSort(sort, 'bandwidth');
    expect(sortStreams(rows, sort).map((r) => r.stream)).toEqual(['s1', 's0', 's2']);
    expect(sortStreams(rows, nextSort(sort, 'stream')).map((r) => r.stream)).toEqual(['s0', 's1', 's2']);
    // ties keep the server's order
    expect(sortStreams(rows, { key: 'online', descending: true }).map((r) => r.stream)).toEqual(['s1', 's0', 's2']);
  });
  it('formats days and durations', () => {
    expect(utcDay(T, 1)).toBe('20280229');
    expect(formatDuration(3 * 3600 + 5 * 60 + 9)).toBe('3 h 05 min');
    expect(formatDuration(250)).toBe('4 min 10 s');
    expect(formatDuration(7)).toBe('7 s');
  });
});
