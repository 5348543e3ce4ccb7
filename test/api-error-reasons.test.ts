import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_HEADER } from '../src/contract/errors.js';
import { formatDay } from '../src/contract/audience/portrait.js';
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

/**
 * A 400 as the contract has it: the body exactly (naming `param`), the reason in REASON_HEADER, and the
 * same reason in the server's "bad request" log line of that request.
 */
async function expectReason(res: Response, param: string, reason: RegExp): Promise<void> {
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ error_code: 'LIVE.100011001', error_msg: `Invalid request parameter: ${param}` });
  const header = res.headers.get(REASON_HEADER);
  expect(header).toMatch(reason);
  const id = res.headers.get('x-request-id');
  const line = logLines.find((l) => l.includes(`"reqId":"${id}"`) && l.includes('"msg":"bad request"'));
  expect(line).toBeDefined();
  expect((JSON.parse(line ?? '{}') as { reason?: string }).reason).toBe(header);
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
      const res = await fetch(`${server.url}/v2/default/stats/${c.path}?${new URLSearchParams(c.query()).toString()}`, { headers: { 'X-Auth-Token': token } });
      await expectReason(res, c.param, c.reason);
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

// The endpoints added later (audience-api.md, origin-api.md) give reasons the same way.
describe('400 reasons of the audience and publish-side endpoints', () => {
  const today = (): number => Math.floor(now() / DAY) * DAY;
  const minute = (ms: number): string => formatUtcSecond(Math.floor(ms / 60_000) * 60_000);
  const stats = (p: string): string => `/v2/default/stats/${p}`;
  const series = { domain: 'push.example.com', app: 'live', stream: 's1' };
  const cases: Array<{ what: string; path: string; query: () => Record<string, string>; param: string; reason: RegExp }> = [
    // ListUsersOfStream
    { what: 'users: interval=120', path: stats('user'), param: 'interval', query: () => ({ play_domain: 'play.example.com', interval: '120' }), reason: /^"120" is not one of 60, 300 \(seconds\)$/ },
    { what: 'users: no play_domain', path: stats('user'), param: 'play_domain', query: () => ({}), reason: /^required, and not given$/ },
    { what: 'users: a play_domain that is no host name', path: stats('user'), param: 'play_domain', query: () => ({ play_domain: 'a..b' }), reason: /^"a\.\.b" is not a valid domain name/ },
    { what: 'users: a play_domain with a scheme', path: stats('user'), param: 'play_domain', query: () => ({ play_domain: 'http://play.example.com' }), reason: /contains ":", which a domain name cannot contain; give the host name only/ },
    { what: 'users: country', path: stats('user'), param: 'country', query: () => ({ play_domain: 'play.example.com', country: 'CN' }), reason: /^country is not supported yet: leave it out \(1 value given\)$/ },
    { what: 'users: a stream name with a slash', path: stats('user'), param: 'stream', query: () => ({ play_domain: 'play.example.com', stream: 'a/b' }), reason: /^"a\/b" is not a valid stream name: 1 to 256 characters, no '\/' and no control characters$/ },
    // ListPlayDomainStreamInfo
    { what: 'play-info: a time that is not a whole minute', path: stats('stream/play-info'), param: 'time', query: () => ({ time: '2026-12-01T08:00:30Z' }), reason: /^"2026-12-01T08:00:30Z" is not a whole minute: the seconds must be 00, e\.g\. 2026-12-01T08:00:00Z$/ },
    { what: 'play-info: a time with an offset', path: stats('stream/play-info'), param: 'time', query: () => ({ time: '2026-12-01T08:00:00+08:00' }), reason: /has a UTC offset, which is not accepted .*\(a whole minute: seconds 00\)$/ },
    { what: 'play-info: a minute that has not begun', path: stats('stream/play-info'), param: 'time', query: () => ({ time: minute(now() + 2 * HOUR) }), reason: /is a minute that has not begun yet \(now is .*\); the latest accepted time is / },
    { what: 'play-info: a minute over 7 days ago', path: stats('stream/play-info'), param: 'time', query: () => ({ time: minute(now() - 8 * DAY) }), reason: /is 8 days( \d+ h)? ago; at most 7 days back is allowed .*\(the oldest accepted time now is / },
    // ShowStreamPortrait
    { what: 'portrait: today in time', path: stats('stream-portraits'), param: 'time', query: () => ({ play_domain: 'play.example.com', time: formatDay(today()) }), reason: /is today \(UTC\), a day that has not ended yet; pick a day from \d{8} to \d{8} \(UTC\)$/ },
    { what: 'portrait: a day over 31 days ago', path: stats('stream-portraits'), param: 'time', query: () => ({ play_domain: 'play.example.com', time: formatDay(today() - 40 * DAY) }), reason: /is more than 31 days ago; pick a day from / },
    { what: 'portrait: a date with dashes', path: stats('stream-portraits'), param: 'time', query: () => ({ play_domain: 'play.example.com', time: '2026-11-22' }), reason: /^"2026-11-22" has dashes; use the UTC day as YYYYMMDD/ },
    { what: 'portrait: no such date', path: stats('stream-portraits'), param: 'time', query: () => ({ play_domain: 'play.example.com', time: '20261131' }), reason: /^"20261131" is not a real calendar date/ },
    // The publish-side operations
    { what: 'online: limit=0', path: '/v1/default/realtime/streams', param: 'limit', query: () => ({ publish_domain: 'push.example.com', limit: '0' }), reason: /^"0" is not accepted: limit must be an integer from 1 to 100 \(default 10\)$/ },
    { what: 'online: limit=101', path: '/v1/default/realtime/streams', param: 'limit', query: () => ({ publish_domain: 'push.example.com', limit: '101' }), reason: /^"101" is not accepted: limit must be an integer from 1 to 100/ },
    { what: 'online: offset too large', path: '/v1/default/realtime/streams', param: 'offset', query: () => ({ publish_domain: 'push.example.com', offset: '1000001' }), reason: /^"1000001" is not accepted: offset is a page number, an integer from 0 to 1000000/ },
    { what: 'online: no publish_domain', path: '/v1/default/realtime/streams', param: 'publish_domain', query: () => ({}), reason: /^required, and not given$/ },
    { what: 'history: a span over 1 day', path: stats('history/streams'), param: 'start_time', query: () => ({ domain: 'push.example.com', start_time: formatUtcSecond(now() - 25 * HOUR), end_time: formatUtcSecond(now()) }), reason: /spans 25 h; at most 24 h is allowed/ },
    { what: 'history: a bad domain in the list', path: stats('history/streams'), param: 'domain', query: () => ({ domain: 'push.example.com,a..b' }), reason: /^"a\.\.b" is not a valid domain name/ },
    { what: 'up-bandwidth: type=FOO', path: stats('up-bandwidth/detail'), param: 'type', query: () => ({ publish_domains: 'push.example.com', type: 'FOO' }), reason: /^"FOO" is not accepted: type is RELAY \(relayed input\) or left out \(publishers\)$/ },
    { what: 'up-bandwidth: interval=120', path: stats('up-bandwidth/detail'), param: 'interval', query: () => ({ publish_domains: 'push.example.com', interval: '120' }), reason: /^"120" is not one of 300, 3600, 86400 \(seconds\)$/ },
    { what: 'bitrate: type=FOO', path: stats('stream/bitrate'), param: 'type', query: () => ({ ...series, type: 'FOO' }), reason: /^"FOO" is not one of VIDEO, AUDIO \(default VIDEO\)$/ },
    { what: 'framerate: no app', path: stats('stream/framerate'), param: 'app', query: () => ({ domain: 'push.example.com', stream: 's1' }), reason: /^required, and not given$/ },
    { what: 'stream-detail: a stream name with a control character', path: stats('stream-detail'), param: 'stream', query: () => ({ publish_domain: 'push.example.com', app: 'live', stream: 'a\u0001b' }), reason: /is not a valid stream name/ },
    { what: 'up-stream detail: a start over 31 days old', path: stats('up-stream/detail'), param: 'start_time', query: () => ({ publish_domain: 'push.example.com', app: 'live', stream: 's1', start_time: formatUtcSecond(now() - 32 * DAY), end_time: formatUtcSecond(now() - 32 * DAY + HOUR) }), reason: /at most \d+ days back is allowed/ },
  ];

  for (const c of cases) {
    it(`${c.what}: the body is the contract's exactly, the reason is in ${REASON_HEADER} and the server log`, async () => {
      const res = await fetch(`${server.url}${c.path}?${new URLSearchParams(c.query()).toString()}`, { headers: { 'X-Auth-Token': token } });
      await expectReason(res, c.param, c.reason);
    });
  }
});

// The origin intake (POST /ingest/v1/{project}/origin/nginx|srs): a refused notification says why too.
describe('400 reasons of the origin notifications', () => {
  const NGINX = '/ingest/v1/default/origin/nginx?origin=edge1';
  const SRS = '/ingest/v1/default/origin/srs?origin=srs1';
  const nginx = (more: Record<string, string>): string =>
    new URLSearchParams({ app: 'live', tcurl: 'rtmp://push.example.com/live', addr: '198.51.100.4', clientid: '12', call: 'publish', name: 'cam1', ...more }).toString();
  const srs = (more: Record<string, unknown>): string =>
    JSON.stringify({ action: 'on_publish', client_id: '341w361a', ip: '203.0.113.9', vhost: '__defaultVhost__', app: 'live', stream: 'cam1', ...more });
  const cases: Array<{ what: string; path: string; body: string; param: string; reason: RegExp }> = [
    { what: 'nginx: an unknown call', path: NGINX, body: nginx({ call: 'explode' }), param: 'call', reason: /^the field call is "explode"; expected publish, publish_done, / },
    { what: 'nginx: a client id that is not digits', path: NGINX, body: nginx({ clientid: '1e9' }), param: 'clientid', reason: /^the field clientid is "1e9"; expected 1 to 20 digits$/ },
    { what: 'nginx: a name with a control character', path: NGINX, body: nginx({ name: 'a\u0000b' }), param: 'name', reason: /^the fields app and name must each be 1 to 256 characters without '\/' or control characters/ },
    { what: 'nginx: a stream key with a slash', path: NGINX, body: nginx({ name: 'cam/1' }), param: 'name', reason: /without '\/' or control characters \(the field app is "live", the field name is "cam\/1"\)$/ },
    { what: 'nginx: a bad origin', path: '/ingest/v1/default/origin/nginx?origin=a%20b', body: nginx({}), param: 'origin', reason: /^"a b" is not accepted: origin is 1 to 128 of / },
    { what: 'nginx: a bad domain', path: `${NGINX}&domain=a%2Fb`, body: nginx({}), param: 'domain', reason: /^"a\/b" contains "\/", which a domain name cannot contain/ },
    { what: 'srs: a body that is not JSON', path: SRS, body: '{', param: 'body (not valid JSON)', reason: /^the body is not valid JSON; an SRS HTTP callback is a JSON object$/ },
    { what: 'srs: a JSON array', path: SRS, body: '[]', param: 'action', reason: /^the body is not a JSON object/ },
    { what: 'srs: an unknown action', path: SRS, body: srs({ action: 'on_dance' }), param: 'action', reason: /^the field action is "on_dance"; expected on_publish, on_unpublish, on_play or on_stop/ },
    { what: 'srs: a bad client_id', path: SRS, body: srs({ client_id: '../x' }), param: 'client_id', reason: /^the field client_id is "\.\.\/x"; expected 1 to 64 of / },
    { what: 'srs: an empty stream', path: SRS, body: srs({ stream: '' }), param: 'name', reason: /\(the field app is "live", the field stream is missing\)$/ },
  ];
  for (const c of cases) {
    it(`${c.what}: the body names the field as before, the reason is in ${REASON_HEADER} and the server log`, async () => {
      const res = await fetch(`${server.url}${c.path}`, { method: 'POST', body: c.body, headers: { 'X-Auth-Token': token } });
      await expectReason(res, c.param, c.reason);
    });
  }
});
