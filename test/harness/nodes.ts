import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { allowAll } from '../../src/api/auth.js';
import { resolveServeConfig, type ServeConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface Node extends RunningServer {
  /** GET over a real socket; returns status and the exact body text. */
  get(path: string): Promise<{ status: number; body: string }>;
}

/** Starts a livestats node on a free loopback port with a temp data dir and a pinned clock. */
export async function startNode(flags: Record<string, string>, now: number): Promise<Node> {
  const data = mkdtempSync(join(tmpdir(), 'livestats-node-'));
  const config: ServeConfig = resolveServeConfig({ port: '0', data, 'log-level': 'silent', ...flags }, {});
  // Authentication is tested on its own; these nodes compare stores, so they allow all.
  const server = await startServer(config, { logger: pino({ level: 'silent' }), now: () => now, authenticate: allowAll });
  const close = server.close.bind(server);
  return {
    ...server,
    async get(path) {
      const res = await fetch(server.url + path);
      return { status: res.status, body: await res.text() };
    },
    async close() {
      try {
        await close();
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
  };
}
