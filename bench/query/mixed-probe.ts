// The ingest poster and /healthz poller of the dense bench's mixed row, in a process of their own
// (forked by run-dense.ts): timed here, their latencies do not include the event-loop delay of the
// process that runs autocannon (which measured up to hundreds of ms there, see mixedRow).
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProbeOptions {
  url: string;
  token: string;
  project: string;
  /** Domains the posted lines are spread over. */
  domains: string[];
  lines: number;
  /**
   * Lines are 5 s old, but never newer than this (epoch ms): after the dataset's last hour has
   * passed, posts still merge into its dense blocks instead of an empty hour.
   */
  latest: number;
  /** Pause after each acknowledgement before the next POST. */
  postGapMs: number;
  /** Pause after each /healthz answer before the next poll. */
  healthGapMs: number;
}

export interface ProbeResult {
  /** ms from sending each POST to its full answer (all 200). */
  acks: number[];
  health: number[];
  /** Answers other than 200. */
  failures: number;
  /** This process's own event-loop delay p99 and max (ms): what its timings may include. */
  loopDelayP99: number;
  loopDelayMax: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');
const clf = (d: Date): string =>
  `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;

/** One POST body: `lines` combined_host lines 5 s old (at most `latest`), 1 in 10 a 404, spread over the domains. */
export function ingestBody(o: Pick<ProbeOptions, 'domains' | 'lines' | 'latest'>, b: number, now = Date.now()): string {
  const t = clf(new Date(Math.min(now, o.latest) - 5000));
  let s = '';
  for (let i = 0; i < o.lines; i++) {
    s += `1.0.${i % 250}.${b % 250} - - [${t}] "GET /live/s.flv HTTP/1.1" ${i % 10 ? 200 : 404} 1234 "-" "bench" ${o.domains[i % o.domains.length]}\n`;
  }
  return s;
}

const agent = new Agent({ keepAlive: true, maxSockets: 2 });

function send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Posts and polls until `stopped()` says so. */
export async function probe(o: ProbeOptions, stopped: () => boolean): Promise<ProbeResult> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const r: ProbeResult = { acks: [], health: [], failures: 0, loopDelayP99: 0, loopDelayMax: 0 };
  const ingestUrl = new URL(`/ingest/v1/${o.project}/access-logs?format=combined_host`, o.url);
  const healthUrl = new URL('/healthz', o.url);
  const poster = (async () => {
    for (let b = 0; !stopped(); b++) {
      const body = ingestBody(o, b);
      const headers = { 'x-auth-token': o.token, 'content-type': 'text/plain', 'x-batch-id': `mixed-${Date.now()}-${b}` };
      const t0 = performance.now();
      const status = await send(ingestUrl, 'POST', headers, body);
      if (status === 200) r.acks.push(performance.now() - t0);
      else r.failures++;
      await sleep(o.postGapMs);
    }
  })();
  const poller = (async () => {
    while (!stopped()) {
      const t0 = performance.now();
      const status = await send(healthUrl, 'GET', {});
      if (status === 200) r.health.push(performance.now() - t0);
      else r.failures++;
      await sleep(o.healthGapMs);
    }
  })();
  await Promise.all([poster, poller]);
  loop.disable();
  r.loopDelayP99 = loop.percentile(99) / 1e6;
  r.loopDelayMax = loop.max / 1e6;
  return r;
}

// Forked: options in argv[2]; starts at once, stops at the parent's 'stop' message and sends its result.
if (process.send && process.argv[2]) {
  const o = JSON.parse(process.argv[2]) as ProbeOptions;
  let stop = false;
  process.on('message', (m) => {
    if (m === 'stop') stop = true;
  });
  const result = await probe(o, () => stop);
  process.send(result, () => process.exit(0));
}
