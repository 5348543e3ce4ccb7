import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  p50: number;
  p99: number;
  max: number;
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerReq: number;
}

/** Runs autocannon in-process against one URL; latencies in ms. */
export async function load(name: string, url: string, opts: { connections: number; seconds: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const r = await autocannon({ url, connections: opts.connections, duration: opts.seconds, headers: opts.headers });
  return {
    name,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    rps: r.requests.average,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    bytesPerReq: r.requests.total > 0 ? Math.round(r.throughput.total / r.requests.total) : 0,
  };
}
