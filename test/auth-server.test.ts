import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsPath } from '../src/auth/credentials.js';
import { keysCommand } from '../src/cli/keys.js';
import { banner } from '../src/cli/serve.js';
import { resolveServeConfig, type ServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { rawRequest, sdkClient, sdkGet } from './helpers/huawei-sdk.js';

/** The real server: first-start credentials, `livestats keys` against a running server, file safety. */
let dir: string;
const config = (): ServeConfig => ({
  ...resolveServeConfig({}, {}),
  host: '127.0.0.1', port: 0, data: dir, store: 'sqlite', demo: false, logLevel: 'silent', flushIntervalMs: 1000, maxConcurrentQueries: 8, queryCacheMs: 1000,
});

async function keys(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await keysCommand([...argv, '--data', dir], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), env: {} });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-authsrv-'));
  process.env.HOME = dir;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('server credentials', () => {
  let server: RunningServer;

  it('first start creates project "default" with a key and a token, prints them, and they work', async () => {
    server = await startServer(config(), { logger: pino({ level: 'silent' }) });
    const issued = server.auth.issued;
    expect(issued?.project_id).toBe('default');
    if (!issued) return;
    const text = banner(server.url, false, server.auth);
    for (const s of [issued.ak, issued.sk, issued.token]) expect(text).toContain(s);
    expect(text).toContain(`-H 'X-Auth-Token: ${issued.token}' '${server.url}/v2/default/stats/httpcodes`);
    const res = await rawRequest(server.url, { method: 'GET', target: '/v2/default/stats/httpcodes?play_domains=a.com', headers: { 'X-Auth-Token': issued.token } });
    expect(res.status).toBe(200);
    const sdk = await sdkGet(sdkClient(server.url, { ak: issued.ak, sk: issued.sk, projectId: 'default' }), '/v2/{project_id}/stats/httpcodes', { play_domains: 'a.com' });
    expect(sdk.status).toBe(200);
  });

  it('the file is mode 0600, holds the SK but never a token in clear', () => {
    const path = credentialsPath(dir);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(server.auth.issued?.sk ?? 'missing');
    expect(text).not.toContain(server.auth.issued?.token ?? 'missing');
  });

  it('/healthz stays open', async () => {
    expect((await rawRequest(server.url, { method: 'GET', target: '/healthz', headers: {} })).status).toBe(200);
  });

  it('`keys create --json` reaches the running server without a restart', async () => {
    const r = await keys(['create', '--project', 'team-x', '--json']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.out) as Record<string, string>;
    expect(Object.keys(c).sort()).toEqual(['ak', 'project_id', 'sk', 'token', 'token_id']);
    expect(c.project_id).toBe('team-x');
    const sdk = await sdkGet(sdkClient(server.url, { ak: c.ak ?? '', sk: c.sk ?? '', projectId: 'team-x' }), '/v2/{project_id}/stats/httpcodes', { play_domains: 'a.com' });
    expect(sdk.status).toBe(200);
    const tok = await rawRequest(server.url, { method: 'GET', target: '/v2/team-x/stats/httpcodes?play_domains=a.com', headers: { 'X-Auth-Token': c.token ?? '' } });
    expect(tok.status).toBe(200);
    const list = await keys(['list']);
    expect(list.out).toContain(c.ak);
    expect(list.out).not.toContain(c.sk);
    expect(list.out).not.toContain(c.token);
  });

  it('a restart does not create or print new credentials', async () => {
    await server.close();
    server = await startServer(config(), { logger: pino({ level: 'silent' }) });
    expect(server.auth.issued).toBeUndefined();
    expect(banner(server.url, false, server.auth)).toContain("-H 'X-Auth-Token: <token>'");
    await server.close();
  });
});
