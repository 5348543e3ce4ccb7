import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_LISTED_NAMES } from '../src/api/routes/dashboard-names.js';
import { createCredentials, type IssuedCredentials } from '../src/auth/credentials.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';

/**
 * GET /v2/{project_id}/dashboard/names with many stored names, over real HTTP into a real SQLite
 * store: 1,500 play domains and tens of thousands of streams (a million with
 * LIVESTATS_EXTREME_FULL=1, see package.json: test:extreme) ingested as access-log lines. The list is
 * cut at 1,000 with truncated, the project's streams are never read for it (the store reads are
 * counted by operation in /metrics), and it is authenticated before any read.
 */
const FULL = process.env.LIVESTATS_EXTREME_FULL === '1';
const tmp = tempDir('extreme-names');
let server: RunningServer;
let a: IssuedCredentials;
let b: IssuedCredentials;
const FORMAT = "'$remote_addr $msec $status $bytes_sent $host \"$request\"'";

beforeAll(async () => {
  const data = `${tmp.dir}/data`;
  mkdirSync(data, { recursive: true });
  a = createCredentials(data, 'proj-a');
  b = createCredentials(data, 'proj-b');
  server = await startServer(resolveServeConfig({
    port: '0', data, 'log-level': 'silent', 'probe-max-streams': '0', 'max-streams': String(FULL ? 2_000_000 : 200_000),
  }, {}), { logger: pino({ level: 'silent' }) });
  const t = (Date.now() / 1000 - 120).toFixed(3);
  const post = async (token: string, project: string, lines: string[]): Promise<void> => {
    const res = await fetch(`${server.url}/ingest/v1/${project}/access-logs?format=${encodeURIComponent(FORMAT)}`, {
      method: 'POST', body: `${lines.join('\n')}\n`, headers: { 'content-type': 'text/plain', 'X-Auth-Token': token },
    });
    expect(res.status, await res.text()).toBe(200);
  };
  await post(a.token, 'proj-a', Array.from({ length: 1500 }, (_, i) => `203.0.113.1 ${t} 200 10 d${String(i).padStart(4, '0')}.example.com "GET /live/s.flv HTTP/1.1"`));
  const streams = FULL ? 1_000_000 : 5000;
  for (let from = 0; from < streams; from += 50_000) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(streams, from + 50_000); i++) lines.push(`203.0.113.2 ${t} 200 10 many.example.com "GET /live/stream-${i}.flv HTTP/1.1"`);
    await post(a.token, 'proj-a', lines);
  }
  await post(b.token, 'proj-b', ['203.0.113.3 ' + t + ' 200 10 secret.example.org "GET /live/x.flv HTTP/1.1"']);
  await server.aggregator.flush();
}, 600_000);

afterAll(async () => {
  await server?.close();
  tmp.remove();
});

const names = (project: string, token?: string): Promise<Response> =>
  fetch(`${server.url}/v2/${project}/dashboard/names`, { headers: token === undefined ? {} : { 'X-Auth-Token': token } });

/** Store reads so far of each operation (the timed store's histogram counts in /metrics, one scrape). */
async function reads(): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^livestats_store_query_duration_seconds_count\{[^}]*operation="([A-Za-z]+)"[^}]*\} (\d+)$/gm)) {
    out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
  }
  return out;
}

it('cuts the domains at 1,000 (sorted, truncated) and never reads the project\'s streams for it', async () => {
  const before = (await reads()).storedNames ?? 0;
  const res = await names('proj-a', a.token);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { domains: string[]; truncated: boolean };
  expect(body.domains).toHaveLength(MAX_LISTED_NAMES);
  expect(body.domains[0]).toBe('d0000.example.com');
  expect(body.domains[999]).toBe('d0999.example.com');
  expect(body.truncated).toBe(true);
  // The picker reads domains only (storedDomains), not storedNames (every stream of the project).
  const after = await reads();
  expect(after.storedNames ?? 0).toBe(before);
  expect(after.storedDomains).toBeGreaterThan(0);
});

it('authenticates before any read: no, a wrong, a 10 KB or another project\'s token is a 401; a project sees its own names only', async () => {
  const before = await reads();
  for (const token of [undefined, 'wrong', 'x'.repeat(10_000), b.token]) {
    const res = await names('proj-a', token);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_code: string }).error_code).toMatch(/^LIVE\.1000110(02|15)$/);
  }
  const after = await reads();
  for (const op of ['storedDomains', 'storedNames', 'listTasks']) expect(after[op] ?? 0, op).toBe(before[op] ?? 0);
  const own = (await (await names('proj-b', b.token)).json()) as { domains: string[]; truncated: boolean };
  expect(own).toMatchObject({ domains: ['secret.example.org'], truncated: false });
});
