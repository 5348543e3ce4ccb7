import { DENSE, denseDomain } from './dense.js';
import { denseStream } from './dense-traffic.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The traffic/bandwidth rows of the dense benchmark (issue 14), measured by run-dense.ts like its
 * other rows (uncached, 10 connections, beside a bare server sending the identical bytes). `end`
 * is the last whole hour of the dataset; the traffic cube covers DENSE.traffic.days before it
 * (per-stream cells: the last DENSE.traffic.streamDays).
 */
export function denseTrafficQueries(end: number, part?: { days: number; streams: boolean }): Array<{ name: string; path: string }> {
  const all = Array.from({ length: DENSE.domains }, (_, i) => denseDomain(i + 1)).join(',');
  const top10 = Array.from({ length: 10 }, (_, i) => denseDomain(i + 1)).join(',');
  const { app, stream } = denseStream(DENSE.traffic, 1);
  const base = `/v2/${DENSE.project}/stats`;
  const window = (ms: number): string => `start_time=${iso(end - ms)}&end_time=${iso(end)}`;
  // A partial traffic cube (the ClickHouse bench's BENCH_CH_TRAFFIC_DAYS / _STREAMS): windows cut to its days, no stream row without streams.
  const bw = Math.min(7, part?.days ?? 7);
  const tr = Math.min(31, part?.days ?? 31);
  return [
    { name: `bandwidth ${bw} d x 100 domains, 300 s`, path: `${base}/bandwidth/detail?play_domains=${all}&interval=300&${window(bw * DAY)}` },
    { name: `traffic ${tr} d x 10 domains, 3600 s`, path: `${base}/traffic/detail?play_domains=${top10}&interval=3600&${window(tr * DAY)}` },
  ].concat(part && !part.streams ? [] : [{
      name: 'traffic 24 h x 1 stream, region GD,SH + isp CMCC',
      path: `${base}/traffic/detail?play_domains=${denseDomain(1)}&app=${app}&stream=${stream}&region=GD,SH&isp=CMCC&${window(DAY)}`,
  }]);
}
