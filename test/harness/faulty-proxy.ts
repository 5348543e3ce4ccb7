import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';

/** What the proxy does with one request. */
export type Fault = 'pass' | 'drop-response' | 'refuse';

export interface FaultyProxy {
  url: string;
  /**
   * Decides per request what happens (defaults to 'pass'), given the request's SQL text: its body, or, for an
   * INSERT whose statement travels in the URL's `query` parameter (data in the body), that statement, a newline and the body.
   */
  policy: (body: string) => Fault;
  /** Requests whose response was dropped after the upstream answered. */
  dropped: number;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });

/**
 * A real HTTP proxy in front of a real server that can cut connections: 'refuse' closes
 * the socket before forwarding; 'drop-response' forwards the request, waits for the
 * complete upstream answer (the server did the work) and then closes the socket instead
 * of answering: the client sees a failure for something that succeeded.
 */
export async function startFaultyProxy(upstreamPort: number): Promise<FaultyProxy> {
  const proxy: FaultyProxy = { url: '', policy: () => 'pass', dropped: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const inUrl = new URL(req.url ?? '/', 'http://proxy').searchParams.get('query');
      const fault = proxy.policy(inUrl === null ? body.toString('utf8') : `${inUrl}\n${body.toString('utf8')}`);
      if (fault === 'refuse') {
        req.socket.destroy();
        return;
      }
      const up = httpRequest({
        host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` },
      }, (upRes) => {
        void readBody(upRes).then((answer) => {
          if (fault === 'drop-response') {
            proxy.dropped++;
            req.socket.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(answer);
        });
      });
      up.on('error', () => req.socket.destroy());
      up.end(body);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return proxy;
}
