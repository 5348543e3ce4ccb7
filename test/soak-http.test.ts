import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { call, keepAliveAgent } from '../reliability/soak/http.js';

/**
 * The soak's HTTP client and the keep-alive race: a server closes an idle keep-alive socket just as
 * the client sends its next request on it (CI saw one HTTP batch lost so at load 25). A plain
 * node:http server stands in for livestats here: the point is the moment the socket is closed, which
 * a real server under test cannot be made to hit on demand.
 */
describe('soak HTTP client', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<URL> => {
    server = createServer(handler);
    server.on('connection', (s: Socket) => sockets.add(s));
    await new Promise<void>((resolve) => (server as Server).listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${((server as Server).address() as AddressInfo).port}`);
  };

  it('sends a request reset on a reused idle socket once more, on a new socket', async () => {
    let requests = 0;
    const bodies: string[] = [];
    const base = await listen((req, res) => {
      requests++;
      if (requests === 2) { // the second request arrives on the first one's socket: closed unanswered
        req.socket.destroy();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    const agent = keepAliveAgent(1);
    try {
      expect((await call(agent, base, 'POST', '/a', {}, 'one')).status).toBe(200);
      const second = await call(agent, base, 'POST', '/a', {}, 'two');
      expect(second).toMatchObject({ status: 200, body: 'ok' });
      expect(bodies).toEqual(['one', 'two']);
      expect(requests).toBe(3);
      expect(sockets.size).toBe(2);
    } finally {
      agent.destroy();
    }
  });

  it('does not resend a request that failed on a new socket', async () => {
    let requests = 0;
    const base = await listen((req) => {
      requests++;
      req.socket.destroy();
    });
    const agent = keepAliveAgent(1);
    try {
      await expect(call(agent, base, 'POST', '/a', {}, 'one')).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(requests).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('keeps an idle socket for less than the server\'s announced keep-alive timeout', async () => {
    const base = await listen((_req, res) => res.end('ok'));
    (server as Server).keepAliveTimeout = 5_000; // announced as `Keep-Alive: timeout=5`
    const agent = keepAliveAgent(1);
    try {
      const r = await call(agent, base, 'GET', '/', {});
      expect(r.status).toBe(200);
      const free = Object.values(agent.freeSockets).flat();
      expect(free).toHaveLength(1);
      // Node drops it a second before the server would: 4 s. Without an agent timeout it was 0 (kept until the server closed it).
      expect((free[0] as Socket).timeout).toBe(4_000);
    } finally {
      agent.destroy();
    }
  });
});
