import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { createAuthenticate } from '../../src/api/auth/hook.js';
import type { Authenticate } from '../../src/api/auth.js';
import { projectOf } from '../../src/api/project.js';
import { createCredentials, type IssuedCredentials } from '../../src/auth/credentials.js';
import { FileCredentialSource } from '../../src/auth/source.js';
import { Aggregator } from '../../src/ingest/aggregator.js';
import { createStore } from '../../src/store/index.js';
import type { TrafficQuery } from '../../src/store/traffic.js';
import type { Store } from '../../src/store/types.js';

/**
 * A real app on a loopback socket with a real SQLite store and a credentials file holding
 * one key + token for each of two projects. It also has a test-only POST route
 * `/ingest/{project_id}/echo` guarded by projectOf like every real route (no ingest routes exist here yet),
 * so signed bodies can be checked end to end. Log lines are kept for inspection.
 */
export interface AuthApp {
  dir: string;
  url: string;
  app: FastifyInstance;
  store: Store;
  aggregator: Aggregator;
  a: IssuedCredentials;
  b: IssuedCredentials;
  logLines: string[];
  close(): Promise<void>;
}

export async function startAuthApp(options: { now?: () => number; traffic?: TrafficQuery } = {}): Promise<AuthApp> {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-auth-'));
  // The SDK writes ~/.huaweicloud/application_id when a client is built: keep it in the temp dir.
  process.env.HOME = dir;
  const a = createCredentials(dir, 'proj-a');
  const b = createCredentials(dir, 'proj-b');
  const store = createStore({ store: 'sqlite', data: dir });
  await store.init();
  const aggregator = new Aggregator(store);
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const authenticate: Authenticate = createAuthenticate({ source: new FileCredentialSource(dir), now: options.now });
  const app = buildApp({ store, aggregator, logger, authenticate, traffic: options.traffic });
  const ctx = { store, aggregator, now: Date.now, authenticate };
  app.post('/ingest/:project_id/echo', async (request) => {
    await projectOf(ctx, request);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return { bytes: body.length };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    dir, url: `http://127.0.0.1:${port}`, app, store, aggregator, a, b, logLines,
    async close() {
      await app.close();
      await aggregator.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sum of all counts in a ListQueryHttpCode answer. */
export function totalCount(body: Record<string, unknown>): number {
  const series = body.data_series as Array<{ http_codes: Array<{ count: number }> }> | undefined;
  return (series ?? []).reduce((sum, e) => sum + e.http_codes.reduce((s, c) => s + c.count, 0), 0);
}
