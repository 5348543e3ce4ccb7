import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_LISTED_NAMES } from '../src/api/routes/dashboard-names.js';
import { startAuthApp, type AuthApp } from './helpers/auth-app.js';

/**
 * GET /v2/{project_id}/dashboard/names (the dashboard's domain and task pickers, and its sign-in
 * check): a real app with a real SQLite store and real credentials of two projects.
 */
let t: AuthApp;
const minute = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
const second = Math.floor(Date.now() / 1000) * 1000 - 30_000;

beforeAll(async () => {
  t = await startAuthApp();
  for (const [project, domain] of [['proj-a', 'b.example.com'], ['proj-a', 'a.example.com'], ['proj-b', 'secret.example.org']] as const) {
    t.aggregator.add({ project, domain, time: minute, region: 'GD', isp: 'CMCC', code: 200 }, 3);
  }
  t.aggregator.addSample({ project: 'proj-a', taskId: 'zz-task', second, videoFps: 25, videoKbps: 2000, audioFps: 44, audioKbps: 128 });
  t.aggregator.addSample({ project: 'proj-b', taskId: 'other-task', second, videoFps: 25, videoKbps: 2000, audioFps: 44, audioKbps: 128 });
  await t.aggregator.flush();
}, 60_000);
afterAll(async () => t.close());

const get = (project: string, token?: string): Promise<Response> =>
  fetch(`${t.url}/v2/${project}/dashboard/names`, { headers: token ? { 'X-Auth-Token': token } : {} });

it('lists the project\'s own stored domains and tasks, sorted, with the newest sample of each task', async () => {
  const res = await get('proj-a', t.a.token);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({
    domains: ['a.example.com', 'b.example.com'],
    tasks: [{ task_id: 'zz-task', last_sample_time: new Date(second).toISOString().replace('.000Z', 'Z') }],
    truncated: false,
  });
});

it('answers 401 in the contract envelope without credentials, with a wrong token, or with another project\'s token', async () => {
  for (const res of [await get('proj-a'), await get('proj-a', 'wrong'), await get('proj-a', t.b.token)]) {
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error_code: string };
    expect(body.error_code).toMatch(/^LIVE\.1000110(02|15)$/);
  }
});

it('a bad project id is a 400; other methods are refused', async () => {
  expect((await get('bad%20project', t.a.token)).status).toBe(400);
  const post = await fetch(`${t.url}/v2/proj-a/dashboard/names`, { method: 'POST', headers: { 'X-Auth-Token': t.a.token } });
  expect(((await post.json()) as { error_code: string }).error_code).toBe('LIVE.100011011');
});

it('cuts each list at the documented maximum and says so', async () => {
  for (let i = 0; i <= MAX_LISTED_NAMES; i++) t.aggregator.registerTask('proj-b', `task-${String(i).padStart(5, '0')}`);
  await t.aggregator.flush();
  const body = (await (await get('proj-b', t.b.token)).json()) as { domains: string[]; tasks: Array<{ task_id: string }>; truncated: boolean };
  expect(body.domains).toEqual(['secret.example.org']);
  expect(body.tasks).toHaveLength(MAX_LISTED_NAMES);
  expect(body.tasks[0]?.task_id).toBe('other-task');
  expect(body.truncated).toBe(true);
});
