import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createKeys, rssKiB, startServe, tempData } from './lib/server.js';

/**
 * The cardinality attack of issue 20: one gzip upload of access-log lines that each name another
 * play domain (200,000 by default, about 1.6 MB gzipped), against a real `livestats serve`.
 * Reports the upload's time and answer, the data dir's size after a clean stop, the server's peak
 * RSS, and the longest /healthz answer while the upload ran (a probe every 50 ms).
 *
 *   node dist/reliability/cardinality.js [--domains N] [--cli path/to/bin/livestats.js] [-- serve flags...]
 *
 * --cli runs another build (e.g. an older checkout's bin/livestats.js) for a same-run baseline.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

function clf(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** N lines of combined_host, each naming its own domain, in the last minute. */
export function distinctDomainLines(n: number, now = Date.now()): string {
  const t = clf(now - 30_000);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} - - [${t}] "GET /live/s${i % 50}.flv HTTP/1.1" 200 5120 "-" "bench" d${i}.attack.example`);
  }
  return out.join('\n') + '\n';
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

export interface CardinalityResult {
  domains: number;
  gzipBytes: number;
  status: number;
  answer: unknown;
  uploadSeconds: number;
  peakRssMiB: number;
  diskMB: number;
  healthzMaxMs: number;
}

export async function runCardinality(domains: number, serveArgs: string[], cli?: string): Promise<CardinalityResult> {
  const data = tempData('cardinality');
  try {
    const keys = await createKeys(data.dir, 'attack', cli);
    const server = await startServe(['--data', data.dir, '--log-level', 'warn', ...serveArgs], { cli });
    const body = gzipSync(distinctDomainLines(domains));
    let peak = rssKiB(server.pid);
    let healthzMax = 0;
    let uploading = true;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(server.pid));
    }, 50);
    const probe = (async (): Promise<void> => {
      while (uploading) {
        const t0 = performance.now();
        await fetch(`${server.url}/healthz`).then((r) => r.arrayBuffer()).catch(() => undefined);
        healthzMax = Math.max(healthzMax, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const t0 = performance.now();
    const res = await fetch(`${server.url}/ingest/v1/attack/access-logs?format=combined_host`, {
      method: 'POST', body, headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'x-auth-token': keys.token },
    });
    const answer = (await res.json()) as Record<string, unknown>;
    const uploadSeconds = (performance.now() - t0) / 1000;
    uploading = false;
    await probe;
    clearInterval(sampler);
    peak = Math.max(peak, rssKiB(server.pid));
    await server.stop();
    delete answer.errors;
    return {
      domains, gzipBytes: body.length, status: res.status, answer, uploadSeconds: round(uploadSeconds, 2),
      peakRssMiB: round(peak / 1024, 0), diskMB: round(dirBytes(data.dir) / 1e6, 1), healthzMaxMs: round(healthzMax, 0),
    };
  } finally {
    data.remove();
  }
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

if (process.argv[1]?.endsWith('cardinality.js')) {
  const { values, positionals } = parseArgs({
    options: { domains: { type: 'string' }, cli: { type: 'string' } }, allowPositionals: true, strict: true,
  });
  const result = await runCardinality(Number(values.domains ?? 200_000), positionals, values.cli);
  console.log(JSON.stringify(result));
}
