import { formatUtcSecond } from '../../src/contract/time.js';

const MIN = 60_000;

export interface FreshnessResult {
  tries: number;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
  /** The POST itself (send -> acknowledgement; the route acknowledges once the counts are committed). */
  ackMedianMs: number;
  ackMaxMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Time from an ingest call's acknowledgement to the record being visible in a query:
 * each try POSTs one access-log line for a domain of its own, then polls the stats API
 * every 10 ms until the request is counted.
 */
export async function measureFreshness(baseUrl: string, project: string, tries: number,
  headers: Record<string, string> = {}): Promise<FreshnessResult> {
  const run = Date.now().toString(36);
  const samples: number[] = [];
  const acks: number[] = [];
  for (let i = 0; i < tries; i++) {
    const domain = `fresh-${run}-${i}.bench.example`;
    const now = Date.now();
    const time = new Date(now).toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000');
    const line = `10.1.2.3 - - [${time}] "GET /live/s.flv HTTP/1.1" 200 512 "-" "bench" ${domain}\n`;
    const sent = Date.now();
    const post = await fetch(`${baseUrl}/ingest/v1/${project}/access-logs?format=combined_host`, {
      method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: line,
    });
    const ack = Date.now();
    acks.push(ack - sent);
    const answer = (await post.json()) as { accepted?: number };
    if (post.status !== 200 || answer.accepted !== 1) throw new Error(`ingest refused: ${post.status} ${JSON.stringify(answer)}`);
    const from = Math.floor(now / MIN) * MIN;
    const url = `${baseUrl}/v2/${project}/stats/httpcodes?play_domains=${domain}&start_time=${formatUtcSecond(from)}&end_time=${formatUtcSecond(from + 2 * MIN)}`;
    for (;;) {
      const r = await fetch(url, { headers });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`query failed: ${r.status} ${text.slice(0, 200)}`);
      if (text.includes('"count":1,')) break;
      if (Date.now() - ack > 10_000) throw new Error(`record not visible 10 s after the acknowledgement (${domain})`);
      await sleep(10);
    }
    samples.push(Date.now() - ack);
    await sleep(37 * (i % 7)); // spread the tries over the flush cycle
  }
  samples.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const at = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
  return {
    tries, medianMs: at(samples, 0.5), p90Ms: at(samples, 0.9), maxMs: samples[samples.length - 1] ?? 0,
    ackMedianMs: at(acks, 0.5), ackMaxMs: acks[acks.length - 1] ?? 0,
  };
}
