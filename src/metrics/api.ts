import { Counter, Histogram, type Registry } from 'prom-client';

export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** HTTP API: request durations per route pattern and status, and LIVE.100011007 refusals. */
export class ApiMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly rejected: Counter;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'livestats_http_request_duration_seconds',
      help: 'HTTP request durations by method, route pattern (never the raw URL) and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: REQUEST_BUCKETS,
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'livestats_api_queries_rejected_total',
      help: 'Stats queries refused with LIVE.100011007 (more than --max-concurrent-queries in flight)',
      registers: [registry],
    });
    this.rejected.inc(0);
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.duration.observe({ method, route, status: String(status) }, seconds);
  }

  queryRejected(): void {
    this.rejected.inc();
  }
}
