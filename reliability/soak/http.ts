import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

/** One request over a keep-alive agent; resolves with status, body and latency (rejects only on socket errors / timeout). */
export function call(agent: Agent, base: URL, method: string, path: string, headers: Record<string, string>, body?: string | Buffer, timeoutMs = 30_000): Promise<HttpAnswer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ agent, host: base.hostname, port: base.port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
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
