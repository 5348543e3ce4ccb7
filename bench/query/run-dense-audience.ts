import { DENSE, denseDomain } from './dense.js';

const M = 60_000;
const HOUR = 60 * M;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The audience rows of the dense benchmark (issue 21), measured by run-dense.ts like its other rows
 * (uncached, 10 connections, beside a bare server sending the identical bytes). `end` is the
 * (exclusive) end of the dataset's audience (dense-audience.ts): head domain 1 has 31 days, every
 * head domain its last day, with HLS viewers in the last hour.
 */
export function denseAudienceQueries(end: number): Array<{ name: string; path: string }> {
  const head = denseDomain(1);
  const base = `/v2/${DENSE.project}/stats`;
  const top10 = Array.from({ length: DENSE.audience.domains }, (_, i) => denseDomain(i + 1)).join(',');
  const yesterday = new Date(Math.floor(end / DAY) * DAY - DAY).toISOString().slice(0, 10).replace(/-/g, '');
  return [
    { name: 'users 7 d x 1 head domain, 60 s', path: `${base}/user?play_domain=${head}&interval=60&start_time=${iso(end - 7 * DAY)}&end_time=${iso(end)}` },
    // 31 days less an hour, as bench:audience.
    { name: 'users 31 d x 1 head domain, 300 s', path: `${base}/user?play_domain=${head}&interval=300&start_time=${iso(end - 31 * DAY + HOUR)}&end_time=${iso(end)}` },
    { name: 'play-info 10 domains, 1,000 live streams', path: `${base}/stream/play-info?play_domains=${top10}&time=${iso(end - 30 * M)}` },
    { name: 'portrait of a head domain (yesterday)', path: `${base}/stream-portraits?play_domain=${head}&time=${yesterday}` },
  ];
}
