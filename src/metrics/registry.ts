import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { FlushObserver } from '../ingest/aggregator.js';
import type { StoreHealth } from '../health/store-health.js';
import type { Store } from '../store/types.js';
import { AggregatorMetrics } from './aggregator.js';
import { AudienceMetrics } from './audience.js';
import { ApiMetrics } from './api.js';
import { CarouselMetrics } from './carousel.js';
import { OriginMetrics } from './origin.js';
import { DomainMetrics } from './domains.js';
import { IngestMetrics } from './ingest.js';
import { SeriesBudget } from './series-budget.js';
import { StoreMetrics } from './store.js';

export const DEFAULT_MAX_SERIES = 1000;

/**
 * prom-client defaults that `promtool check metrics` rejects (gauges named `_total`); the same
 * figures stay available per type as nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
 */
export const DROPPED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricsOptions {
  /** Domains and carousel tasks per project with their own series (--metrics-max-series). */
  maxSeries?: number;
  /** The store probed by livestats_store_up (the server's; absent in `livestats ingest`). */
  store?: Store;
  /** Whether the store accepts writes: livestats_store_up is 0 while it does not (as /healthz says). */
  health?: StoreHealth;
  now?: () => number;
  /** Process and Node.js metrics (prom-client's defaults); on unless false. */
  defaultMetrics?: boolean;
}

/**
 * Everything livestats exports to Prometheus, in one registry owned by the process that
 * composes the parts (server, ingest command) and injected into them; there are no globals.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly ingest: IngestMetrics;
  readonly aggregator: AggregatorMetrics;
  readonly domains: DomainMetrics;
  readonly carousel: CarouselMetrics;
  /** The publish side (absent without a store). */
  readonly origin: OriginMetrics | undefined;
  readonly api: ApiMetrics;
  readonly store: StoreMetrics | undefined;
  readonly audience: AudienceMetrics;
  /** Feed this to the Aggregator (`observer`): write times, and committed counts and samples. */
  readonly flushObserver: FlushObserver;

  constructor(o: MetricsOptions = {}) {
    const now = o.now ?? Date.now;
    const max = o.maxSeries ?? DEFAULT_MAX_SERIES;
    if (o.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    const folded = new Counter({
      name: 'livestats_metrics_folded_series_total',
      help: 'Distinct domains or carousel tasks beyond --metrics-max-series for a project (counted under domain="_other"; tasks not exported)',
      labelNames: ['project', 'kind'],
      registers: [this.registry],
    });
    this.ingest = new IngestMetrics(this.registry);
    this.aggregator = new AggregatorMetrics(this.registry, now);
    const domainBudget = new SeriesBudget(max, (project) => folded.inc({ project, kind: 'domain' }));
    this.domains = new DomainMetrics(this.registry, domainBudget);
    this.carousel = new CarouselMetrics(this.registry, new SeriesBudget(max, (project) => folded.inc({ project, kind: 'task' })), now);
    this.api = new ApiMetrics(this.registry);
    const store = o.store;
    this.origin = store ? new OriginMetrics(this.registry, () => store.openSessions(),
      new SeriesBudget(max, (project) => folded.inc({ project, kind: 'publish_domain' })),
      new SeriesBudget(max, (project) => folded.inc({ project, kind: 'stream' })), now) : undefined;
    this.store = o.store ? new StoreMetrics(this.registry, o.store, o.health) : undefined;
    this.audience = new AudienceMetrics(this.registry, domainBudget, o.store, now);
    const { aggregator, domains, carousel, audience } = this;
    this.flushObserver = {
      written(batch, seconds, attempt) {
        aggregator.written(seconds, attempt);
        domains.committed(batch.counts);
        for (const p of batch.packed ?? []) domains.committedPacked(p);
        carousel.committed(batch.samples);
        audience.committed(batch);
      },
      failed(_batch, seconds, attempt) {
        aggregator.failed(seconds, attempt);
      },
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition (Prometheus format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
