import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER } from '../src/contract/errors.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { sdkClient, sdkGet } from './helpers/huawei-sdk.js';

// Issue 22, item 10: a 400 says why. error_msg stays exactly the contract's; the reason goes to the
// server log and to the X-Livestats-Error-Reason header, which the official Node SDK ignores (its
// error parsing reads error_code/error_msg from the body: checked below through the SDK itself).

let dir: string;
let server: RunningServer;
let token: string;
let key: { ak: string; sk: string };
const logLines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-reasons-'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  server = await startServer({ ...resolveServeConfig({}, {}), port: 0, data: dir, logLevel: 'info' }, { logger: pino({ level: 'info' }, sink) });
  const issued = server.auth.issued;
  if (!issued) throw new Error('no first-start credentials');
  token = issued.token;
  key = { ak: issued.ak, sk: issued.sk };
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = (): number => Math.floor(Date.now() / 1000) * 1000;

async function get(path: string, query: Record<string, string>): Promise<{ status: number; body: unknown; reason: string | null; id: string | null }> {
  const res = await fetch(`${server.url}/v2/default/stats/${path}?${new URLSearchParams(query).toString()}`, { headers: { 'X-Auth-Token': token } });
  return { status: res.status, body: await res.json(), reason: res.headers.get(REASON_HEADER), id: res.headers.get('x-request-id') };
}

describe('400 reasons', () => {
  const domain = { play_domains: 'play.example.com' };
  const cases: Array<{ what: string; path: string; query: () => Record<string, string>; param: string; reason: RegExp }> = [
    { what: 'a +08:00 offset', path: 'httpcodes', param: 'start_time', query: () => ({ ...domain, start_time: '2026-12-01T08:00:00+08:00' }), reason: /"2026-12-01T08:00:00\+08:00" has a UTC offset, which is not accepted/ },
    { what: 'fractional seconds', path: 'httpcodes', param: 'start_time', query: () => ({ ...domain, start_time: '2026-12-01T08:00:00.500Z' }), reason: /has fractional seconds, which are not accepted; use UTC as YYYY-MM-DDThh:mm:ssZ/ },
    { what: 'an epoch number', path: 'httpcodes', param: 'end_time', query: () => ({ ...domain, end_time: '1796560886' }), reason: /"1796560886" looks like an epoch number/ },
    { what: 'a span over 24 h', path: 'httpcodes', param: 'start_time', query: () => ({ ...domain, start_time: formatUtcSecond(now() - 25 * HOUR), end_time: formatUtcSecond(now()) }), reason: /spans 25 h; at most 24 h is allowed/ },
    { what: 'a start over 7 days old', path: 'httpcodes', param: 'start_time', query: () => ({ ...domain, start_time: formatUtcSecond(now() - 8 * DAY), end_time: formatUtcSecond(now() - 8 * DAY + HOUR) }), reason: /is 8 days ago; at most 7 days back is allowed \(the oldest accepted start_time now is / },
    { what: 'end before start', path: 'httpcodes', param: 'end_time', query: () => ({ ...domain, start_time: formatUtcSecond(now() - HOUR), end_time: formatUtcSecond(now() - 2 * HOUR) }), reason: /end_time \(.*\) must be after start_time/ },
    { what: 'a bad domain', path: 'httpcodes', param: 'play_domains', query: () => ({ play_domains: 'bad domain!' }), reason: /"bad domain!" (is not a valid domain name|does not match)/ },
    { what: 'an unknown interval', path: 'traffic/detail', param: 'interval', query: () => ({ interval: '60' }), reason: /"60" is not one of 300, 3600, 86400 \(seconds\)/ },
    { what: 'an unknown region', path: 'traffic/detail', param: 'region', query: () => ({ region: 'XX' }), reason: /"XX" is not a region code \(OT, BJ/ },
    { what: 'an unknown isp', path: 'traffic/detail', param: 'isp', query: () => ({ isp: 'ACME' }), reason: /"ACME" is not one of CMCC, CTCC, CUCC, OTHER/ },
    { what: 'a bad protocol', path: 'traffic/detail', param: 'protocol', query: () => ({ protocol: 'rtmp' }), reason: /"rtmp" is not one of flv, hls/ },
  ];

  for (const c of cases) {
    it(`${c.what}: the body is the contract's exactly, the reason is in ${REASON_HEADER} and the server log`, async () => {
      const r = await get(c.path, c.query());
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${c.param}` });
      expect(r.reason).toMatch(c.reason);
      const line = logLines.find((l) => l.includes(`"reqId":"${r.id}"`) && l.includes('"msg":"bad request"'));
      expect(line).toBeDefined();
      expect((JSON.parse(line ?? '{}') as { reason?: string }).reason).toBe(r.reason);
    });
  }

  it('the official Node SDK parses these errors as before: error_code and error_msg exactly, the header ignored', async () => {
    const client = sdkClient(server.url, { ...key, projectId: 'default' });
    const a = await sdkGet(client, '/v2/{project_id}/stats/httpcodes', { play_domains: 'play.example.com', start_time: '2026-12-01T08:00:00+08:00' });
    expect(a.status).toBe(400);
    expect(a.errorCode).toBe('LIVE.100011001');
    expect(a.body).toEqual({ error_msg: 'Invalid request parameter: start_time' });
  });
});
