import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authFailed } from '../contract/errors.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { buildApp } from './app.js';
import type { Authenticate } from './auth.js';
import { projectOf } from './project.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-guard-'));
  store = createStore({ store: 'sqlite', data: dir });
  await store.init();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const onlyP1: Authenticate = async (_request, projectId) => {
  if (projectId !== 'p1') throw authFailed();
};

describe('projectOf and the unauthenticated-answer guard', () => {
  it('a /v2 or /ingest route that forgets projectOf cannot answer 2xx', async () => {
    const app = buildApp({ store, authenticate: onlyP1 });
    const ctx = { store, aggregator: undefined, now: Date.now, authenticate: onlyP1 };
    app.get('/v2/:project_id/forgot', async () => ({ secret: 'data' }));
    app.post('/ingest/:project_id/forgot', async () => ({ ok: true }));
    app.get('/v2/:project_id/careful', async (request) => ({ project: await projectOf(ctx, request) }));
    const forgot = await app.inject({ method: 'GET', url: '/v2/p1/forgot' });
    expect(forgot.statusCode).toBe(500);
    expect(forgot.body).not.toContain('secret');
    expect(forgot.json()).toMatchObject({ error_code: 'LIVE.100011005' });
    expect((await app.inject({ method: 'POST', url: '/ingest/p1/forgot', payload: 'x' })).statusCode).toBe(500);
    expect((await app.inject({ method: 'GET', url: '/v2/p1/careful' })).json()).toEqual({ project: 'p1' });
    expect((await app.inject({ method: 'GET', url: '/v2/p2/careful' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v2/bad%20id/careful' })).json()).toMatchObject({ error_code: 'LIVE.100011001' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });
});
