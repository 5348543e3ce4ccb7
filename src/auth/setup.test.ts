import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { createStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { setupAuth } from './setup.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-setup-'));
  store = createStore({ store: 'sqlite', data: dir });
  await store.init();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('setupAuth', () => {
  it('demo mode: first credentials for "demo", plus a session token that works only for "demo"', async () => {
    const auth = setupAuth({ dataDir: dir, firstProject: 'demo', sessionProject: 'demo', logger: pino({ level: 'silent' }) });
    expect(auth.issued?.project_id).toBe('demo');
    expect(auth.sessionToken).toMatch(/^lst_/);
    const app = buildApp({ store, authenticate: auth.authenticate });
    const get = (project: string, token: string | undefined) => app.inject({
      method: 'GET', url: `/v2/${project}/stats/httpcodes?play_domains=a.com`, headers: token ? { 'x-auth-token': token } : {},
    });
    expect((await get('demo', auth.sessionToken)).statusCode).toBe(200);
    expect((await get('demo', auth.issued?.token)).statusCode).toBe(200);
    expect((await get('other', auth.sessionToken)).json()).toMatchObject({ error_code: 'LIVE.100011015' });
    expect((await get('demo', undefined)).json()).toMatchObject({ error_code: 'LIVE.100011002' });
    // A second start reuses the file, issues a new session token, and the old one is gone with the process.
    const again = setupAuth({ dataDir: dir, firstProject: 'demo', sessionProject: 'demo', logger: pino({ level: 'silent' }) });
    expect(again.issued).toBeUndefined();
    expect(again.sessionToken).not.toBe(auth.sessionToken);
    const app2 = buildApp({ store, authenticate: again.authenticate });
    const old = await app2.inject({ method: 'GET', url: '/v2/demo/stats/httpcodes?play_domains=a.com', headers: { 'x-auth-token': auth.sessionToken ?? '' } });
    expect(old.statusCode).toBe(401);
    await app.close();
    await app2.close();
  });
});
