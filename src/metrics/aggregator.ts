import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AggregatorStats } from '../ingest/aggregator.js';

/** Store write times: SQLite commits take milliseconds, a remote ClickHouse cluster up to seconds. */
export const FLUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The minute aggregator: what waits to be written, and how its store writes go. */
export class AggregatorMetrics {
  private readonly duration: Histogram<'outcome'>;
  private readonly failures: Counter;
  private readonly retries: Counter;
  private readonly lastSuccess: Gauge;
  private readonly sources: Array<() => AggregatorStats> = [];

  constructor(registry: Registry, private readonly now: () => number) {
    const sources = this.sources;
    const sum = (pick: (s: AggregatorStats) => number): number => sources.reduce((n, read) => n + pick(read()), 0);
    new Gauge({
      name: 'livestats_aggregator_pending_records',
      help: 'Records counted in memory and not yet written to the store',
      registers: [registry],
      collect(this: Gauge) {
        this.set(sum((s) => s.pendingRecords));
      },
    });
    new Gauge({
      name: 'livestats_aggregator_pending_batches',
      help: 'Sealed batches waiting for (or retrying) their store write',
      registers: [registry],
      collect(this: Gauge) {
        this.set(sum((s) => s.pendingBatches));
      },
    });
    this.duration = new Histogram({
      name: 'livestats_aggregator_flush_duration_seconds',
      help: 'Time of one batch write to the store, by outcome (ok, failed)',
      labelNames: ['outcome'],
      buckets: FLUSH_BUCKETS,
      registers: [registry],
    });
    let rejectedSeen = 0;
    new Counter({
      name: 'livestats_aggregator_rejected_records_total',
      help: 'Records the store rejected for their data while it took other writes (never counted; not an outage)',
      registers: [registry],
      collect(this: Counter) {
        const now = sum((s) => s.rejectedRecords);
        if (now > rejectedSeen) this.inc(now - rejectedSeen);
        rejectedSeen = Math.max(rejectedSeen, now);
      },
    });
    this.failures = new Counter({
      name: 'livestats_aggregator_flush_failures_total',
      help: 'Batch writes the store refused (the batch is kept and retried)',
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'livestats_aggregator_flush_retries_total',
      help: 'Batch writes that were a retry of an earlier failed write of the same batch',
      registers: [registry],
    });
    this.lastSuccess = new Gauge({
      name: 'livestats_aggregator_last_flush_success_timestamp_seconds',
      help: 'Unix time of the last successful batch write (0: none yet)',
      registers: [registry],
    });
    this.failures.inc(0);
    this.retries.inc(0);
    this.lastSuccess.set(0);
    for (const outcome of ['ok', 'failed']) this.duration.zero({ outcome });
  }

  /** Reports an aggregator's pending work at every scrape. */
  watch(stats: () => AggregatorStats): void {
    this.sources.push(stats);
  }

  written(seconds: number, attempt: number): void {
    this.duration.observe({ outcome: 'ok' }, seconds);
    if (attempt > 1) this.retries.inc();
    this.lastSuccess.set(this.now() / 1000);
  }

  failed(seconds: number, attempt: number): void {
    this.duration.observe({ outcome: 'failed' }, seconds);
    this.failures.inc();
    if (attempt > 1) this.retries.inc();
  }
}
