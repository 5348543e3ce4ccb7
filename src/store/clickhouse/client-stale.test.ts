import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChEndpoint, isStaleSocket } from './client.js';

/**
 * A SELECT on a keep-alive socket that the server closes as the request arrives (what clickhouse-server
 * does when its keep-alive timeout passes while the client still holds the socket, e.g. after an
 * event-loop delay on a busy machine). A stand-in HTTP server, not clickhouse-server: the real one
 * cannot be made to close a socket at the very moment a request reaches it, and the race is the point.
 */
describe('ChEndpoint reads on a socket the server just closed', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('are sent once more on a new socket, and answer', async () => {
    const sockets = new Set<Socket>();
    let requests = 0;
    server = createServer((req, res) => {
      requests++;
      // The second request arrives on the first one's socket: close it without answering.
      if (requests === 2) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on('end', () => {
        res.setHeader('Content-Type', 'text/tab-separated-values; charset=UTF-8');
        res.setHeader('X-ClickHouse-Format', 'TabSeparated');
        res.end(`${requests}\n`);
      });
    });
    server.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((resolve) => (server as Server).listen(0, '127.0.0.1', resolve));
    const { port } = (server as Server).address() as AddressInfo;
    const ch = new ChEndpoint({ url: `http://127.0.0.1:${port}`, username: 'default', password: '' }, { queryTimeoutMs: 30_000 });
    try {
      expect(await ch.tsv('SELECT 1')).toBe('1\n');
      // The same socket is reused at once (well inside the idle TTL); the server drops it; the read is sent again.
      expect(await ch.tsv('SELECT 1')).toBe('3\n');
      expect(requests).toBe(3);
      expect(sockets.size).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await ch.close();
    }
  });

  it('only socket failures count as stale', () => {
    expect(isStaleSocket(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isStaleSocket(new Error('socket hang up'))).toBe(true);
    expect(isStaleSocket(new Error('Syntax error'))).toBe(false);
    expect(isStaleSocket('socket hang up')).toBe(false);
  });
});
