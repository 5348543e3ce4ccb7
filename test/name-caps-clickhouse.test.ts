import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { accessLine, runCli, tempDir } from './ingest-helpers.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

// The per-project caps with a real clickhouse-server: `livestats ingest` (parse workers) counts the
// names ClickHouse has stored, so the cap holds across runs (processes) too.
let server: ClickHouseServer;
const dir = tempDir('caps-ch');
beforeAll(async () => {
  server = await startClickHouse();
});
afterAll(async () => {
  await server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function logFile(name: string, domains: string[], paths?: string[]): string {
  const t = Date.now() - 5 * 60_000;
  const file = join(dir, name);
  writeFileSync(file, domains.map((d, i) => accessLine(t, { host: d, ip: '36.1.2.3', ...(paths ? { path: paths[i] } : {}) })).join('\n') + '\n');
  return file;
}

it('--max-domains holds within a run (2 parse workers) and across runs, per project', async () => {
  const url = server.url('caps');
  const ingest = async (project: string, file: string): Promise<unknown> => {
    const res = await runCli(['ingest', '--project', project, '--format', 'combined_host', '--store', 'clickhouse', '--clickhouse-url', url,
      '--max-domains', '3', '--max-streams', '2', '--workers', '2', '--json', file]);
    // Cap drops are shown (with a sample line when parsed inline; a domain refused after the parse workers has none) and never fail the run.
    expect(res.stderr.split('\n').filter((l) => l !== '' && !/^livestats ingest: dropped \d+ lines? as (domain|stream)_limit(, e\.g\.: |$)/.test(l)
      && !l.startsWith('livestats ingest: warning: FLV viewer counts need $request_time'))).toEqual([]);
    expect(res.code).toBe(0);
    // (the audience counts by reason, FLV lines without $request_time, are not what this test is about)
    const { samples: _samples, audience: _audience, warnings: _warnings, ...counts } = JSON.parse(res.stdout) as Record<string, unknown>;
    return counts;
  };
  const first = logFile('a.log', ['a.com', 'b.com', 'c.com', 'a.com']);
  expect(await ingest('p1', first)).toEqual({ lines: 4, accepted: 4, dropped: {} });
  // A later run: the three stored domains count; a fourth is dropped, known ones are counted.
  const second = logFile('b.log', ['d.com', 'e.com', 'b.com']);
  expect(await ingest('p1', second)).toEqual({ lines: 3, accepted: 1, dropped: { domain_limit: 2 } });
  // Another project has its own cap.
  expect(await ingest('p2', logFile('c.log', ['d.com', 'e.com']))).toEqual({ lines: 2, accepted: 2, dropped: {} });
  // Streams: the parse workers share one budget of new streams.
  const streams = logFile('d.log', ['s.com', 's.com', 's.com'], ['/live/s0.flv', '/live/s1.flv', '/live/s2.flv']);
  expect(await ingest('p3', streams)).toEqual({ lines: 3, accepted: 2, dropped: { stream_limit: 1 } });
}, 120_000);
