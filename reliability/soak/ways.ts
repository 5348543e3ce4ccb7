import { execFile } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { Agent } from 'node:http';
import { join } from 'node:path';
import { cliPath } from '../lib/server.js';
import { call, type ErrorLog } from './http.js';
import type { LineMaker } from './model.js';

/** One way into livestats, fed `lines` at a time; `drain` waits for what it still holds. */
export interface Way {
  name: string;
  feed(now: number, count: number): void;
  drain(): Promise<void>;
  /** Lines handed over (for the rate actually held). */
  sent: number;
  /** Latencies of acknowledgements, ms (HTTP answers, batch CLI runs). */
  acks: number[];
}

/** HTTP intake: batches posted every 250 ms (half with an X-Batch-Id), answered once committed. */
export function httpWay(maker: LineMaker, agent: Agent, base: URL, project: string, token: string, errors: ErrorLog): Way {
  let pending: string[] = [];
  let inFlight = new Set<Promise<void>>();
  let batchNo = 0;
  const way: Way = {
    name: 'HTTP intake', sent: 0, acks: [],
    feed(now, count) {
      pending.push(...maker.make(now, count));
      way.sent += count;
    },
    async drain() {
      // Until everything fed is sent and acknowledged (send holds back while 8 batches are in flight).
      for (;;) {
        send();
        if (inFlight.size === 0) break;
        await Promise.all([...inFlight]);
      }
    },
  };
  const send = (): void => {
    // A client's backpressure: with 8 batches unacknowledged, the lines wait for the next tick (in a
    // bigger batch) instead of piling up requests; slow acks are the ack-latency check's business.
    if (pending.length === 0 || inFlight.size >= 8) return;
    const lines = pending;
    pending = [];
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-auth-token': token };
    if (batchNo % 2 === 0) headers['x-batch-id'] = `soak-${process.pid}-${batchNo}`;
    batchNo++;
    const p = call(agent, base, 'POST', `/ingest/v1/${project}/access-logs?format=combined_host`, headers, lines.join('\n')).then((res) => {
      way.acks.push(res.ms);
      if (res.status !== 200) errors.add('http-ingest', `${res.status} ${res.body}`);
      else if ((JSON.parse(res.body) as { accepted: number }).accepted !== lines.length) errors.add('http-ingest', `accepted ${res.body} of ${lines.length}`);
    }, (err: unknown) => errors.add('http-ingest', String(err)));
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const timer = setInterval(send, 250);
  const stop = way.drain;
  way.drain = async () => {
    clearInterval(timer);
    await stop();
    inFlight = new Set();
  };
  return way;
}

/** ingest --follow: lines appended to the followed file every tick. */
export function followWay(maker: LineMaker, file: string, errors: ErrorLog): Way {
  let chain = Promise.resolve();
  const way: Way = {
    name: 'ingest --follow', sent: 0, acks: [],
    feed(now, count) {
      const text = maker.make(now, count).join('\n') + '\n';
      way.sent += count;
      chain = chain.then(() => appendFile(file, text)).catch((err: unknown) => errors.add('follow-append', String(err)));
    },
    drain: () => chain,
  };
  return way;
}

/** Syslog over TCP: RFC 5424 octet-counted on one connection, RFC 3164 newline-framed on another. */
export async function syslogWay(maker: LineMaker, port: number, errors: ErrorLog): Promise<Way> {
  const open = (): Promise<Socket> => new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const octet = await open();
  const newline = await open();
  for (const s of [octet, newline]) s.on('error', (err) => errors.add('syslog-socket', String(err)));
  let k = 0;
  const way: Way = {
    name: 'syslog (TCP)', sent: 0, acks: [],
    feed(now, count) {
      let a = '';
      let b = '';
      for (const line of maker.make(now, count)) {
        if (k++ % 2 === 0) {
          const msg = `<190>1 ${new Date(now).toISOString()} edge nginx - - - ${line}`;
          a += `${Buffer.byteLength(msg)} ${msg}`;
        } else {
          b += `<190>Dec  1 10:00:00 edge nginx: ${line}\n`;
        }
      }
      way.sent += count;
      if (a) octet.write(a);
      if (b) newline.write(b);
    },
    async drain() {
      await Promise.all([octet, newline].map((s) => new Promise<void>((r) => s.end(() => r()))));
    },
  };
  return way;
}

/** Batch `livestats ingest` of a fresh file every 10 s (its own process, same data directory). */
export function batchWay(maker: LineMaker, dir: string, dataDir: string, project: string, errors: ErrorLog): Way {
  let pending: string[] = [];
  let n = 0;
  let running = Promise.resolve();
  const way: Way = {
    name: 'batch `livestats ingest`', sent: 0, acks: [],
    feed(now, count) {
      pending.push(...maker.make(now, count));
      way.sent += count;
    },
    async drain() {
      clearInterval(timer);
      run();
      await running;
    },
  };
  const run = (): void => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    const file = join(dir, `batch-${n++}.log`);
    running = running.then(async () => {
      await writeFile(file, lines.join('\n') + '\n');
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        execFile(process.execPath, [cliPath(), 'ingest', '--project', project, '--format', 'combined_host', '--json', '--data', dataDir, file], (err, stdout, stderr) => {
          way.acks.push(performance.now() - t0);
          if (err) errors.add('batch-cli', `${err.message} ${stderr}`);
          else if ((JSON.parse(stdout) as { accepted: number }).accepted !== lines.length) errors.add('batch-cli', `${stdout} for ${lines.length} lines`);
          resolve();
        });
      });
    });
  };
  const timer = setInterval(run, 10_000);
  return way;
}

/** What the poison tenant sent and was told. */
export interface PoisonStats {
  posts: number;
  /** Lines answered as counted (each claims the per-line maximum of bytes). */
  accepted: number;
  /** Lines answered as dropped `bad_bytes` (each claims 2^53 - 1 bytes). */
  badBytes: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A second tenant sending extreme values through the batch -> store path the whole soak: every 250 ms
 * one batch into one cell of its own, 2 lines of 2^53 - 1 bytes (dropped as `bad_bytes`) and 2 lines of
 * the per-line maximum, 2^40 bytes (counted: the cell's bytes pass 2^53 - 1 and saturate after 8,192 of
 * them, within a 30-minute soak). Every answer must be 200 with exactly that split, the soak tenant's
 * counts stay exact, and the poison tenant's requests read back as counted.
 */
export function poisonTenant(agent: Agent, base: URL, project: string, token: string, errors: ErrorLog): { stats: PoisonStats; stop(): Promise<void> } {
  const stats: PoisonStats = { posts: 0, accepted: 0, badBytes: 0 };
  const inFlight = new Set<Promise<void>>();
  const line = (ms: number, bytes: number): string => {
    const d = new Date(ms);
    const t = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
    return `127.0.0.1 - - [${t}] "GET /live/poison.flv HTTP/1.1" 200 ${bytes} "-" "soak-poison" poison.soak.test`;
  };
  const send = (): void => {
    if (inFlight.size > 2) return;
    const at = Math.floor((Date.now() - 30_000) / 60_000) * 60_000;
    const body = [line(at, Number.MAX_SAFE_INTEGER), line(at, 2 ** 40), line(at, Number.MAX_SAFE_INTEGER), line(at, 2 ** 40)].join('\n');
    stats.posts++;
    const p = call(agent, base, 'POST', `/ingest/v1/${project}/access-logs?format=combined_host`, { 'content-type': 'text/plain', 'x-auth-token': token }, body).then((res) => {
      const a = res.status === 200 ? (JSON.parse(res.body) as { accepted: number; dropped: { bad_bytes?: number } }) : undefined;
      if (!a || a.accepted !== 2 || a.dropped.bad_bytes !== 2) {
        errors.add('poison-tenant', `${res.status} ${res.body.slice(0, 200)}`);
        return;
      }
      stats.accepted += 2;
      stats.badBytes += 2;
    }, (err: unknown) => errors.add('poison-tenant', String(err)));
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const timer = setInterval(send, 250);
  return {
    stats,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}
