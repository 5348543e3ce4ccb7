import { formatUtcSecond } from '../../src/contract/time.js';
import { accessLine } from '../ingest-helpers.js';

/** Known traffic for metric tests: log lines per domain and status, and carousel samples, over real HTTP. */
export const KNOWN_LINES: Array<{ host: string; status: number; n: number }> = [
  { host: 'play.example.com', status: 200, n: 50 },
  { host: 'play.example.com', status: 206, n: 4 },
  { host: 'play.example.com', status: 404, n: 7 },
  { host: 'play.example.com', status: 503, n: 3 },
  { host: '例子.com', status: 200, n: 20 },
  { host: '例子.com', status: 502, n: 5 },
  { host: 'hls.example.com', status: 302, n: 2 },
];
export const TASK = 'cam:1@edge-7';

export async function postKnownTraffic(base: string, project: string, headers: Record<string, string>, timeMs: number): Promise<void> {
  const lines = KNOWN_LINES.flatMap((l) => Array.from({ length: l.n }, () => accessLine(timeMs, { host: l.host, status: l.status })));
  lines.push('not an access log line');
  const res = await fetch(`${base}/ingest/v1/${project}/access-logs?format=combined_host`, {
    method: 'POST', body: lines.join('\n'), headers: { ...headers, 'content-type': 'text/plain' },
  });
  if (res.status !== 200) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`);
  const second = Math.floor(timeMs / 1000) * 1000;
  const samples = [0, 1, 2].map((i) => ({
    time: formatUtcSecond(second + i * 1000), video_fps: 25, video_kbps: 1500 + i, audio_fps: 43, audio_kbps: 128,
  }));
  const s = await fetch(`${base}/ingest/v1/${project}/carousel-tasks/${encodeURIComponent(TASK)}/samples`, {
    method: 'POST', body: JSON.stringify(samples), headers: { ...headers, 'content-type': 'application/json' },
  });
  if (s.status !== 200) throw new Error(`samples: HTTP ${s.status} ${await s.text()}`);
}
