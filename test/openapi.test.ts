import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { routesOf } from '../src/api/spec/collect.js';
import { resolveServeConfig } from '../src/config.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { startServer, type RunningServer } from '../src/server.js';
import { postKnownTraffic, TASK } from './helpers/traffic.js';
import { tempDir } from './ingest-helpers.js';

/** GET /openapi.json: valid OpenAPI 3.1 (a real validator from npm), complete, and what the server really does. */
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string; schema: Record<string, unknown> }> }>>;
}

const dir = tempDir('openapi');
let server: RunningServer;
let doc: Doc;
const P = 'p1';
const HC = `/v2/${P}/stats/httpcodes`;
const CT = `/v2/${P}/stats/carousel-task/detail`;

beforeAll(async () => {
  server = await startServer(resolveServeConfig({ port: '0', data: join(dir, 'data'), 'log-level': 'silent' }, {}), { authenticate: allowAll });
  await postKnownTraffic(server.url, P, {}, Date.now() - 60_000);
  const res = await fetch(`${server.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  doc = (await res.json()) as Doc;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('is a valid OpenAPI 3.1 document', async () => {
  expect(doc.openapi).toBe('3.1.0');
  const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

it('holds only valid JSON Schemas (2020-12 meta-schema)', () => {
  const ajv = new Ajv2020({ strict: true });
  const schemas: unknown[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'schema' || (k === 'schemas' && v !== null && typeof v === 'object')) schemas.push(...(k === 'schema' ? [v] : Object.values(v as object)));
        walk(v);
      }
    }
  };
  walk(doc);
  expect(schemas.length).toBeGreaterThan(40);
  for (const schema of schemas) expect(ajv.validateSchema(schema as object), JSON.stringify(schema).slice(0, 200)).toBe(true);
});

it('lists every route the server registers (only the dashboard\'s built files and wrong-method answers are left out)', () => {
  const records = routesOf(server.app);
  expect(records.length).toBeGreaterThan(0);
  for (const r of records) {
    if (r.spec === false) continue;
    expect(r.spec, `${r.method} ${r.url} declares no spec`).toBeDefined();
  }
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  expect(operations).toEqual([
    'GET /', 'GET /dashboard/config.json', 'GET /healthz', 'GET /metrics', 'GET /openapi.json',
    'POST /ingest/v1/{project_id}/access-logs', 'POST /ingest/v1/{project_id}/carousel-tasks/{task_id}/samples',
    'POST /ingest/v1/{project_id}/origin/nginx', 'POST /ingest/v1/{project_id}/origin/srs',
    'GET /v2/{project_id}/stats/carousel-task/detail', 'GET /v2/{project_id}/stats/httpcodes',
    'GET /v2/{project_id}/stats/traffic/detail', 'GET /v2/{project_id}/stats/bandwidth/detail',
    'GET /v2/{project_id}/stats/traffic/summary', 'GET /v2/{project_id}/stats/bandwidth/peak',
    'GET /v2/{project_id}/dashboard/names',
    'GET /v2/{project_id}/stats/user', 'GET /v2/{project_id}/stats/stream/play-info', 'GET /v2/{project_id}/stats/stream-portraits',
    'GET /v1/{project_id}/realtime/streams', 'GET /v2/{project_id}/stats/history/streams', 'GET /v2/{project_id}/stats/stream-count',
    'GET /v2/{project_id}/stats/up-bandwidth/detail', 'GET /v2/{project_id}/stats/stream/bitrate', 'GET /v2/{project_id}/stats/stream/framerate',
    'GET /v2/{project_id}/stats/stream-detail', 'GET /v2/{project_id}/stats/up-stream/detail',
  ].sort());
  // what is left out is left out deliberately
  const undocumented = records.filter((r) => r.spec === false).map((r) => r.url);
  for (const url of undocumented) expect(url === '/' || url.startsWith('/assets/') || records.some((r) => r.url === url && r.spec), url).toBe(true);
});

describe('the document says what the server checks', () => {
  const param = (path: string, name: string): Record<string, unknown> => {
    const p = doc.paths[path]?.get?.parameters.find((x) => x.name === name);
    expect(p, `${path} ${name}`).toBeDefined();
    return (p as { schema: Record<string, unknown> }).schema;
  };
  const status = async (path: string): Promise<{ status: number; name?: string }> => {
    const res = await fetch(server.url + path);
    const body = (await res.json()) as { error_msg?: string };
    return { status: res.status, name: body.error_msg?.replace('Invalid request parameter: ', '') };
  };

  it('play_domains: at most maxItems distinct domains', async () => {
    const max = param('/v2/{project_id}/stats/httpcodes', 'play_domains').maxItems as number;
    const domains = (n: number): string => Array.from({ length: n }, (_, i) => `d${i}.example.com`).join(',');
    expect(await status(`${HC}?play_domains=${domains(max)}`)).toEqual({ status: 200 });
    expect(await status(`${HC}?play_domains=${domains(max + 1)}`)).toEqual({ status: 400, name: 'play_domains' });
  });

  it('region and isp: exactly the enums listed', async () => {
    for (const name of ['region', 'isp']) {
      const values = (param('/v2/{project_id}/stats/httpcodes', name).items as { enum: string[] }).enum;
      expect(values.length).toBeGreaterThan(3);
      expect(await status(`${HC}?play_domains=a.com&${name}=${values.join(',')}`)).toEqual({ status: 200 });
      expect(await status(`${HC}?play_domains=a.com&${name}=${values[0]?.toLowerCase()}`)).toEqual({ status: 400, name });
    }
  });

  it('code, start_time and carousel_task_id: their patterns', async () => {
    const code = new RegExp((param('/v2/{project_id}/stats/httpcodes', 'code').items as { pattern: string }).pattern, 'u');
    for (const c of ['200', '599', '100', '600', '099', '2000', '+200']) {
      expect((await status(`${HC}?play_domains=a.com&code=${encodeURIComponent(c)}`)).status, c).toBe(code.test(c) ? 200 : 400);
    }
    const time = new RegExp(param('/v2/{project_id}/stats/httpcodes', 'start_time').pattern as string, 'u');
    const start = formatUtcSecond(Date.now() - 3600_000);
    for (const t of [start, start.replace('Z', 'z'), start.replace('Z', '.000Z'), start.replace('Z', '+00:00')]) {
      expect((await status(`${HC}?play_domains=a.com&start_time=${encodeURIComponent(t)}`)).status, t).toBe(time.test(t) ? 200 : 400);
    }
    const task = new RegExp(param('/v2/{project_id}/stats/carousel-task/detail', 'carousel_task_id').pattern as string, 'u');
    for (const id of [TASK, 'a', '-leading-dash', 'has space', 'x'.repeat(129)]) {
      const r = await status(`${CT}?carousel_task_id=${encodeURIComponent(id)}`);
      expect(r.status === 400, id).toBe(!task.test(id));
    }
  });
});

describe('real answers conform to the document', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  let added = false;
  /** The schema at a JSON pointer inside the document ($refs to its components resolve). */
  const check = (path: string, method: string, statusCode: number, type: string, body: unknown): void => {
    if (!added) {
      ajv.addSchema({ ...doc, $id: 'urn:livestats:openapi' });
      added = true;
    }
    const pointer = ['paths', path, method, 'responses', String(statusCode), 'content', type, 'schema']
      .map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
    const validate = ajv.compile({ $ref: `urn:livestats:openapi#/${pointer}` });
    expect(validate(body), `${method} ${path} ${statusCode}: ${JSON.stringify(validate.errors)}`).toBe(true);
  };
  const get = async (path: string, init?: RequestInit): Promise<{ status: number; body: unknown; type: string }> => {
    const res = await fetch(server.url + path, init);
    return { status: res.status, body: await res.json(), type: res.headers.get('content-type') ?? '' };
  };

  it('stats answers and errors', async () => {
    const hc = await get(`${HC}?play_domains=play.example.com,xn--fsqu00a.com&region=GD,BJ`);
    expect(hc.status).toBe(200);
    check('/v2/{project_id}/stats/httpcodes', 'get', 200, 'application/json', hc.body);
    const ct = await get(`${CT}?carousel_task_id=${encodeURIComponent(TASK)}`);
    expect(ct.status).toBe(200);
    check('/v2/{project_id}/stats/carousel-task/detail', 'get', 200, 'application/json', ct.body);
    const bad = await get(`${HC}?play_domains=a.com&isp=ATT`);
    expect(bad.status).toBe(400);
    check('/v2/{project_id}/stats/httpcodes', 'get', 400, 'application/json', bad.body);
    for (const op of ['traffic/detail', 'bandwidth/detail', 'traffic/summary', 'bandwidth/peak']) {
      const ok = await get(`/v2/${P}/stats/${op}?play_domains=play.example.com${op.endsWith('detail') ? '&interval=3600' : ''}`);
      expect(ok.status, op).toBe(200);
      check(`/v2/{project_id}/stats/${op}`, 'get', 200, 'application/json', ok.body);
      const refused = await get(`/v2/${P}/stats/${op}?protocol=rtmp`);
      expect(refused.status, op).toBe(400);
      check(`/v2/{project_id}/stats/${op}`, 'get', 400, 'application/json', refused.body);
    }
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    const minute = `${new Date(Date.now() - 120_000).toISOString().slice(0, 16)}:00Z`;
    for (const [op, qs] of [
      ['user', 'play_domain=play.example.com&interval=300'],
      ['stream/play-info', `time=${minute}`],
      ['stream-portraits', `play_domain=play.example.com&time=${yesterday}`],
    ] as const) {
      const ok = await get(`/v2/${P}/stats/${op}?${qs}`);
      expect(ok.status, op).toBe(200);
      check(`/v2/{project_id}/stats/${op}`, 'get', 200, 'application/json', ok.body);
      const refused = await get(`/v2/${P}/stats/${op}?play_domain=a.com&interval=120&time=1`);
      expect(refused.status, op).toBe(400);
      check(`/v2/{project_id}/stats/${op}`, 'get', 400, 'application/json', refused.body);
    }
    const missing = await get(`${CT}?carousel_task_id=nope`);
    expect(missing.status).toBe(404);
    check('/v2/{project_id}/stats/carousel-task/detail', 'get', 404, 'application/json', missing.body);
  });

  it('ingest answers', async () => {
    const t = Date.now() - 60_000;
    const post = (headers: Record<string, string>): Promise<{ status: number; body: unknown; type: string }> =>
      get(`/ingest/v1/${P}/access-logs?format=combined_host`, { method: 'POST', body: 'garbage\n', headers: { 'content-type': 'text/plain', ...headers } });
    const first = await post({ 'x-batch-id': 'openapi-1' });
    check('/ingest/v1/{project_id}/access-logs', 'post', 200, 'application/json', first.body);
    const again = await post({ 'x-batch-id': 'openapi-1' });
    expect(again.body).toMatchObject({ duplicate: true });
    check('/ingest/v1/{project_id}/access-logs', 'post', 200, 'application/json', again.body);
    const samples = await get(`/ingest/v1/${P}/carousel-tasks/t2/samples`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ time: formatUtcSecond(t), video_fps: 25, video_kbps: 1, audio_fps: 43, audio_kbps: 1 }, { time: 'x' }]),
    });
    expect(samples.status).toBe(200);
    check('/ingest/v1/{project_id}/carousel-tasks/{task_id}/samples', 'post', 200, 'application/json', samples.body);
  });

  it('operations answers', async () => {
    const health = await get('/healthz');
    check('/healthz', 'get', 200, 'application/json', health.body);
    const config = await get('/dashboard/config.json');
    check('/dashboard/config.json', 'get', 200, 'application/json; charset=utf-8', config.body);
  });
});
