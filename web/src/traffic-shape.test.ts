import { describe, expect, it } from 'vitest';
import { ShapeError } from './shape.js';
import { domainRows, formatBps, formatBytes, parseDetail, parsePerDomain, protocolSplit, sumValues } from './traffic-shape.js';
import { trafficParams } from './traffic-query.js';

describe('parsing the traffic answers', () => {
  it('reads data_list and per-domain lists', () => {
    expect(parseDetail({ data_list: [{ value: 5, time: '2028-03-01T10:00:00Z' }] })).toEqual([{ time: Date.UTC(2028, 2, 1, 10), value: 5 }]);
    expect(parsePerDomain({ bandwidth_list: [{ value: 8, domain: 'a.com' }] }, 'bandwidth_list')).toEqual([{ domain: 'a.com', value: 8 }]);
  });
  it('refuses anything else', () => {
    for (const bad of [null, [], {}, { data_list: [{ value: -1, time: '2028-03-01T10:00:00Z' }] }, { data_list: [{ value: 1.5, time: '2028-03-01T10:00:00Z' }] },
      { data_list: [{ value: 1, time: 'yesterday' }] }]) {
      expect(() => parseDetail(bad)).toThrow(ShapeError);
    }
    expect(() => parsePerDomain({ traffic_list: [{ value: 1 }] }, 'traffic_list')).toThrow(ShapeError);
    expect(() => parsePerDomain({ traffic_list: [] }, 'bandwidth_list')).toThrow(ShapeError);
  });
});

describe('domain rows and splits', () => {
  it('merges peak and total per domain, busiest first', () => {
    expect(domainRows(
      [{ domain: 'a.com', value: 3001 }, { domain: 'b.com', value: 8000 }, { domain: 'c.com', value: 0 }],
      [{ domain: 'a.com', value: 241_519 }, { domain: 'b.com', value: 307_500 }, { domain: 'c.com', value: 0 }, { domain: 'd.com', value: 5 }],
    )).toEqual([
      { domain: 'b.com', peakBps: 8000, bytes: 307_500 },
      { domain: 'a.com', peakBps: 3001, bytes: 241_519 },
      { domain: 'd.com', peakBps: 0, bytes: 5 },
      { domain: 'c.com', peakBps: 0, bytes: 0 },
    ]);
  });
  it('splits protocols with the rest as other, never negative', () => {
    expect(protocolSplit(100, 30, 50)).toEqual([{ name: 'HTTP-FLV', bytes: 30 }, { name: 'HLS', bytes: 50 }, { name: 'other', bytes: 20 }]);
    expect(protocolSplit(10, 30, 50)[2]).toEqual({ name: 'other', bytes: 0 });
    expect(sumValues([{ value: 1 }, { value: 2 }])).toBe(3);
  });
});

describe('formatting', () => {
  it('uses decimal units', () => {
    expect(formatBps(850)).toBe('850 bps');
    expect(formatBps(12_345_678)).toBe('12.3 Mbps');
    expect(formatBps(1_000)).toBe('1.00 kbps');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_500_000_000)).toBe('1.50 GB');
    expect(formatBytes(999_999)).toBe('1000 kB');
  });
});

describe('trafficParams', () => {
  const window = { start: Date.UTC(2028, 2, 1, 10), end: Date.UTC(2028, 2, 1, 11), live: false };
  it('sends only what is set, interval only when asked, overrides for the splits', () => {
    const q = { domains: ['a.com', 'b.com'], window, interval: 3600, region: 'GD', isp: '', protocol: 'hls' };
    expect(trafficParams(q, { interval: true }).toString())
      .toBe('play_domains=a.com%2Cb.com&start_time=2028-03-01T10%3A00%3A00Z&end_time=2028-03-01T11%3A00%3A00Z&interval=3600&region=GD&protocol=hls');
    expect(trafficParams({ ...q, domains: [], region: '' }, { isp: 'CMCC', protocol: 'flv' }).toString())
      .toBe('start_time=2028-03-01T10%3A00%3A00Z&end_time=2028-03-01T11%3A00%3A00Z&isp=CMCC&protocol=flv');
  });
});
