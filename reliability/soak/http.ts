import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

/**
 * A keep-alive agent that drops an idle socket before the server does. Node's agent honours the
 * server's `Keep-Alive: timeout=N` hint (closing its idle sockets a second early) only when the agent
 * has a timeout of its own; without one it kept idle sockets until the server closed them, and a
 * request sent on such a socket as the server closed it failed with ECONNRESET (CI saw one HTTP
 * batch lost so, at load 25).
 */
export const keepAliveAgent = (maxSockets: number): Agent => new Agent({ keepAlive: true, maxSockets, timeout: 60_000 });

const resetOnReuse = (err: unknown, reused: boolean): boolean => reused && (err as NodeJS.ErrnoException).code === 'ECONNRESET';

/**
 * One request over a keep-alive agent; resolves with status, body and latency (rejects only on socket
 * errors / timeout). A request reset on a reused idle socket is sent once more on a new one: the server
 * closed that socket while idle, before it read the request (Node's documented case for a retry).
 */
export async function call(agent: Agent, base: URL, method: string, path: string, headers: Record<string, string>, body?: string | Buffer, timeoutMs = 30_000): Promise<HttpAnswer> {
  const t0 = performance.now();
  try {
    return await send(agent, base, method, path, headers, body, timeoutMs, t0);
  } catch (err) {
    if (!resetOnReuse(err, (err as { reused?: boolean }).reused === true)) throw err;
    return send(agent, base, method, path, headers, body, timeoutMs, t0);
  }
}

function send(agent: Agent, base: URL, method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined, timeoutMs: number, t0: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ agent, host: base.hostname, port: base.port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
    req.end(body);
  });
}

/** Errors seen during the soak, by kind, with the first few messages kept. */
export class ErrorLog {
  readonly counts = new Map<string, number>();
  readonly samples: string[] = [];

  add(kind: string, message: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (this.samples.length < 20) this.samples.push(`${kind}: ${message.slice(0, 300)}`);
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
