import { describe, expect, it } from 'vitest';
import {
  codeClass, MIN_SHARE_REQUESTS, parseCarousel, parseHttpCodes, provinceRow, shapeCarousel, shapePlayback, ShapeError, topProvinces,
  type CarouselResponse, type HttpCodesResponse,
} from './shape.js';

const T0 = Date.parse('2026-11-23T07:00:00Z');
const resp: HttpCodesResponse = {
  data_series: [
    { time: '2026-11-23T07:00:00Z', http_codes: [{ code: 200, count: 90 }, { code: 302, count: 5 }, { code: 404, count: 3 }, { code: 502, count: 2 }] },
    { time: '2026-11-23T07:01:00Z', http_codes: [{ code: 200, count: 0 }, { code: 302, count: 0 }, { code: 404, count: 0 }, { code: 502, count: 0 }] },
    { time: '2026-11-23T07:02:00Z', http_codes: [{ code: 200, count: 10 }, { code: 302, count: 0 }, { code: 404, count: 0 }, { code: 502, count: 10 }] },
  ],
};

describe('shapePlayback', () => {
  it('makes one stacked series per code, one point per minute', () => {
    const s = shapePlayback(resp);
    expect(s.times).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    expect(s.codes.map((c) => [c.code, c.cls])).toEqual([[200, '2xx'], [302, '3xx'], [404, '4xx'], [502, '5xx']]);
    expect(s.codes[0]?.points).toEqual([[T0, 90], [T0 + 60_000, 0], [T0 + 120_000, 10]]);
    expect(s.codes[3]?.points).toEqual([[T0, 2], [T0 + 60_000, 0], [T0 + 120_000, 10]]);
  });

  it('error share is (4xx+5xx)/all per minute, a gap for a minute without requests', () => {
    expect(shapePlayback(resp).errorShare).toEqual([[T0, 0.05], [T0 + 60_000, null], [T0 + 120_000, 0.5]]);
  });

  it('totals and shares of the window, ascending by code', () => {
    const s = shapePlayback(resp);
    expect(s.total).toBe(120);
    expect(s.errors).toBe(15);
    expect(s.table).toEqual([
      { code: 200, cls: '2xx', total: 100, share: 100 / 120 },
      { code: 302, cls: '3xx', total: 5, share: 5 / 120 },
      { code: 404, cls: '4xx', total: 3, share: 3 / 120 },
      { code: 502, cls: '5xx', total: 12, share: 12 / 120 },
    ]);
  });

  it('codes missing from some entries count as 0 there; an empty window has no series', () => {
    const s = shapePlayback({ data_series: [
      { time: '2026-11-23T07:00:00Z', http_codes: [{ code: 500, count: 4 }] },
      { time: '2026-11-23T07:01:00Z', http_codes: [{ code: 200, count: 4 }] },
    ] });
    expect(s.codes.map((c) => c.points.map((p) => p[1]))).toEqual([[0, 4], [4, 0]]);
    // 4 requests a minute: too few for a share point (MIN_SHARE_REQUESTS).
    expect(s.errorShare.map((p) => p[1])).toEqual([null, null]);
    const empty = shapePlayback({ data_series: [{ time: '2026-11-23T07:00:00Z', http_codes: [] }] });
    expect(empty.codes).toEqual([]);
    expect(empty.total).toBe(0);
    expect(empty.table).toEqual([]);
    expect(empty.errorShare).toEqual([[T0, null]]);
  });
});

describe('shapePlayback: sparse minutes, 5xx share, the minute in progress', () => {
  it('a minute under MIN_SHARE_REQUESTS gets no share point (no night-time spikes); at the threshold it does', () => {
    expect(MIN_SHARE_REQUESTS).toBe(20);
    const s = shapePlayback({ data_series: [
      { time: '2026-11-23T07:00:00Z', http_codes: [{ code: 200, count: 18 }, { code: 499, count: 1 }] },
      { time: '2026-11-23T07:01:00Z', http_codes: [{ code: 200, count: 18 }, { code: 503, count: 2 }] },
    ] });
    expect(s.errorShare).toEqual([[T0, null], [T0 + 60_000, 0.1]]);
    expect(s.serverErrorShare).toEqual([[T0, null], [T0 + 60_000, 0.1]]);
  });

  it('the 5xx share leaves 404 and 499 out; totals count 5xx apart', () => {
    const s = shapePlayback(resp);
    expect(s.serverErrorShare).toEqual([[T0, 0.02], [T0 + 60_000, null], [T0 + 120_000, 0.5]]);
    expect(s.serverErrors).toBe(12);
    expect(s.minutes).toEqual([
      { time: T0, total: 100, errors: 5, serverErrors: 2 },
      { time: T0 + 60_000, total: 0, errors: 0, serverErrors: 0 },
      { time: T0 + 120_000, total: 20, errors: 10, serverErrors: 10 },
    ]);
  });

  it('a minute not ended by `now` is kept apart as partial: out of the lines and the health minutes, in the totals', () => {
    const s = shapePlayback(resp, T0 + 150_000);
    expect(s.codes[0]?.points).toEqual([[T0, 90], [T0 + 60_000, 0]]);
    expect(s.errorShare).toHaveLength(2);
    expect(s.minutes).toHaveLength(2);
    expect(s.partial).toEqual({ time: T0 + 120_000, total: 20, errors: 10, serverErrors: 10 });
    expect(s.total).toBe(120);
    // Exactly at its end the minute is complete.
    expect(shapePlayback(resp, T0 + 180_000).partial).toBeUndefined();
  });
});

describe('parseHttpCodes', () => {
  it('accepts a real response and rejects malformed ones with a clear error', () => {
    expect(parseHttpCodes(resp)).toBe(resp);
    expect(parseHttpCodes({ data_series: [] })).toEqual({ data_series: [] });
    for (const bad of [
      null, 'x', [], {}, { data_series: {} }, { data_series: [null] }, { data_series: [{ time: 'yesterday', http_codes: [] }] },
      { data_series: [{ time: '2026-11-23T07:00:00Z' }] },
      { data_series: [{ time: '2026-11-23T07:00:00Z', http_codes: [{ code: '200', count: 1 }] }] },
      { data_series: [{ time: '2026-11-23T07:00:00Z', http_codes: [{ code: 200, count: -1 }] }] },
      { data_series: [{ time: '2026-11-23T07:00:00Z', http_codes: [{ code: 200, count: Infinity }] }] },
    ]) {
      expect(() => parseHttpCodes(bad), JSON.stringify(bad)).toThrow(ShapeError);
    }
  });
});

it('codeClass buckets by hundreds', () => {
  expect([100, 199, 200, 206, 304, 499, 500, 599].map(codeClass)).toEqual(['1xx', '1xx', '2xx', '2xx', '3xx', '4xx', '5xx', '5xx']);
});

describe('provinces', () => {
  it('sums ok and errors per province, busiest first, drops provinces without traffic', () => {
    const gd = provinceRow('GD', resp);
    expect(gd).toEqual({ region: 'GD', ok: 105, errors: 15, total: 120 });
    const rows = [gd, { region: 'BJ', ok: 0, errors: 0, total: 0 }, { region: 'SH', ok: 200, errors: 0, total: 200 }, { region: 'AH', ok: 120, errors: 0, total: 120 }];
    expect(topProvinces(rows, 10).map((r) => r.region)).toEqual(['SH', 'AH', 'GD']);
    expect(topProvinces(rows, 1).map((r) => r.region)).toEqual(['SH']);
  });
});

const carousel = (lists: number[][]): CarouselResponse => ({
  start_time: '2026-11-23T07:00:00Z',
  end_time: '2026-11-23T07:00:08Z',
  video_framerate_list: lists[0] ?? [],
  video_bitrate_list: lists[1] ?? [],
  audio_framerate_list: lists[2] ?? [],
  audio_bitrate_list: lists[3] ?? [],
});

describe('shapeCarousel', () => {
  it('one point per second from start_time, outages where all four are zero', () => {
    const r = carousel([
      [25, 0, 0, 25, 25, 0, 0, 0],
      [2500, 0, 0, 2400, 2400, 0, 0, 0],
      [43, 0, 43, 43, 43, 0, 0, 0],
      [128, 0, 128, 128, 128, 0, 0, 0],
    ]);
    const s = shapeCarousel(r);
    expect(s.seconds).toBe(8);
    expect(s.videoFps.slice(0, 2)).toEqual([[T0, 25], [T0 + 1000, 0]]);
    expect(s.audioKbps[7]).toEqual([T0 + 7000, 0]);
    // Second 2 has audio only: not an outage. The trailing run ends at the window end.
    expect(s.outages).toEqual([[T0 + 1000, T0 + 2000], [T0 + 5000, T0 + 8000]]);
    expect(s.outageSeconds).toBe(4);
  });

  it('an empty window (entirely in the future) has no points and no outages', () => {
    const s = shapeCarousel(carousel([[], [], [], []]));
    expect(s).toMatchObject({ seconds: 0, outages: [], outageSeconds: 0, videoFps: [] });
  });

  it('parseCarousel rejects malformed bodies', () => {
    expect(parseCarousel(carousel([[1], [2], [3], [4]])).video_bitrate_list).toEqual([2]);
    for (const bad of [
      null, {}, { ...carousel([[1], [2], [3], [4]]), start_time: 'now' },
      carousel([[1], [2, 3], [3], [4]]), carousel([[1], [2], [3], [-4]]), { ...carousel([[1], [2], [3], [4]]), audio_bitrate_list: 'x' },
    ]) {
      expect(() => parseCarousel(bad), JSON.stringify(bad)).toThrow(ShapeError);
    }
  });
});
