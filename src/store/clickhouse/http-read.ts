import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ClickHouseError } from '@clickhouse/client';

/** Reads at once at most: the official client's default pool size (max_open_connections). */
const MAX_SOCKETS = 10;
/**
 * An idle socket is closed after this long: clickhouse-server closes its side after 3 s (keep_alive_timeout up
 * to 23.11), and a request sent on a socket it has just closed fails (the caller sends a SELECT once more then).
 */
const IDLE_SOCKET_MS = 2000;

export interface HttpReadTarget {
  /** The server's origin, `http[s]://host:port`. */
  url: string;
  username: string;
  password: string;
}

/**
 * SELECTs sent to one clickhouse-server over plain node:http with a keep-alive socket pool of their own: the
 * query in the body of one POST, its settings in the URL, the whole answer read as text. What ChEndpoint's
 * reads go through: the official client's request (a body stream piped into the request, its abort
 * controllers, the row-splitting stream of the answer) cost ~3x the CPU of the round trip itself, and the
 * stamps reads of every block answer (stamp-reads.ts) are a round trip each with a few hundred bytes in
 * and out. Aborts, timeouts and the kill of the query stay with the caller (ChEndpoint): `signal` aborts
 * the request.
 */
export class HttpReads {
  private readonly agent: HttpAgent;
  private readonly send: (o: RequestOptions, cb: (res: IncomingMessage) => void) => ClientRequest;
  private readonly origin: URL;
  private readonly headers: Record<string, string>;

  constructor(target: HttpReadTarget) {
    this.origin = new URL(target.url);
    const https = this.origin.protocol === 'https:';
    const options = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.send = https ? httpsRequest : httpRequest;
    this.headers = {
      Authorization: `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`,
      'User-Agent': 'livestats',
      'Content-Type': 'text/plain; charset=UTF-8',
    };
  }

  /**
   * The answer to `query` (complete SQL with its FORMAT clause) as text. Rejects with a ClickHouseError (its
   * `code` the server's error code) when the server answers other than 200, with the socket's error, or with
   * `signal`'s reason once it aborts.
   */
  text(query: string, settings: Record<string, string>, signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const body = Buffer.from(query, 'utf8');
      const search = new URLSearchParams(settings).toString();
      let done = false;
      const finish = (err: unknown, text?: string): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve(text as string);
        else reject(err);
      };
      const req = this.send({
        protocol: this.origin.protocol, hostname: this.origin.hostname, port: this.origin.port, method: 'POST',
        path: `/?${search}`, agent: this.agent, headers: { ...this.headers, 'Content-Length': String(body.length) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => finish(err));
        // Closed before its end: the server or the socket went away mid-answer.
        res.on('close', () => {
          if (!res.complete) finish(signal.aborted ? signal.reason : Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) finish(undefined, text);
          else finish(serverError(text, res.statusCode));
        });
      });
      const onAbort = (): void => {
        finish(signal.reason);
        req.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => finish(signal.aborted ? signal.reason : err));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The error of a non-200 answer: ClickHouse's `Code: N, ...` text (18.16) or `Code: N. DB::Exception ...` (later). */
export function serverError(text: string, status: number | undefined): ClickHouseError {
  const code = /^\s*Code: (\d+)/.exec(text)?.[1];
  return new ClickHouseError({ message: text.trim() || `HTTP ${String(status)}`, code: code ?? String(status) });
}

/**
 * The rows of a JSONEachRow answer. A line that is not JSON but ClickHouse's `Code: N` error text (an
 * exception after the answer had begun) rejects as that error.
 */
export function jsonEachRow<R>(text: string): R[] {
  const out: R[] = [];
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    if (nl > at) {
      const line = text.slice(at, nl);
      try {
        out.push(JSON.parse(line) as R);
      } catch (err) {
        if (/^\s*Code: \d+/.test(line)) throw serverError(text.slice(at), 200);
        throw err;
      }
    }
    at = nl + 1;
  }
  return out;
}
